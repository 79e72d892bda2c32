{#- A sum of doubles that does not depend on the order rows are added in: each term is
    rounded to 12 decimals and summed as a decimal (exact on DuckDB and Spark), then
    returned as a double. A plain sum of doubles differs in its last bits between parallel
    runs, and rounding that result only moves the flip to the rounding boundary. -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 12))) as double)
{%- endmacro %}
