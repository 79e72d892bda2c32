{#- Values of an enumerated column that are not in its domain (seed raw_value_domains). -#}
{% test in_value_domain(model, column_name, source_table) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
      and {{ column_name }} not in (
        select allowed_value from {{ ref('raw_value_domains') }}
        where source_table = '{{ source_table }}' and column_name = '{{ column_name }}'
      )
{% endtest %}
