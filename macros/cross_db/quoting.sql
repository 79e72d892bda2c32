{#- A value from the environment or the CLI (a path, a name) as a SQL string literal, quoted
    with the engine's own escaping, so a quote in it can never end the literal and run SQL
    (issue 11, defect 3). The same pair of upstream macros dbt uses for unit-test fixtures. -#}
{% macro quoted_literal(value) %}
    {{ return(dbt.string_literal(dbt.escape_single_quotes(value | string))) }}
{% endmacro %}
