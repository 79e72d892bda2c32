{#- Every per-column rule of a model in one query: one scan of the model (plus a hash join per
    relationship or value domain), one dbt test node, where dbt runs a node and a scan per
    column and rule. Returns one row per (column, rule) that fails, with the number of failing
    rows and an example (the offending value; for not_null, unique, row_count and expressions,
    the key of a failing row where the model has a single-column key in `unique`, else null).
    Each rule keeps the semantics of the generic test it replaces:
      not_null         [column, ...]                     nulls fail (not_null)
      unique           [column | [column, ...], ...]     a column: repeated non-null values fail
                                                         (unique); a list: repeated combinations,
                                                         nulls equal (unique_combination_of_columns)
      accepted_range   {column: {min_value, max_value, inclusive}}   nulls pass (accepted_range)
      accepted_values  {column: [value, ...]}            nulls pass (accepted_values)
      in_value_domain  {column: source_table}            nulls pass (in_value_domain)
      relationships    {column: {to: ref(...), field}}   nulls pass (relationships)
      expressions      [expression | {expression, where}]   rows where it is false (expression_is_true)
      row_count        n                                 fails unless the model has n rows (row_count_equals)
-#}
{% test column_rules(model, not_null=[], unique=[], accepted_range={}, accepted_values={}, in_value_domain={}, relationships={}, expressions=[], row_count=none) %}
    {%- set checks = [] -%}
    {%- set joins = [] -%}
    {%- set string = dbt.type_string() -%}
    {%- set key_columns = (unique | select('string') | list)[:1] -%}
    {%- set key_example = "cast(" ~ key_columns[0] ~ " as " ~ string ~ ")" if key_columns else none -%}

    {%- for column in not_null -%}
        {%- do checks.append({'column': column, 'rule': 'not_null', 'failing': column ~ ' is null', 'example': key_example}) -%}
    {%- endfor -%}

    {%- for key in unique -%}
        {%- if key is string -%}
            {%- do checks.append({'column': key, 'rule': 'unique',
                'count': 'count(' ~ key ~ ') - count(distinct ' ~ key ~ ')'}) -%}
        {%- else -%}
            {%- do checks.append({'column': key | join(', '), 'rule': 'unique_combination_of_columns',
                'count': 'count(*) - count(distinct ' ~ column_rules_row(key) ~ ')'}) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- for column, bounds in accepted_range.items() -%}
        {%- set inclusive = bounds.get('inclusive', true) -%}
        {%- set outside = [] -%}
        {%- if bounds.get('min_value') is not none -%}
            {%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ bounds['min_value']) -%}
        {%- endif -%}
        {%- if bounds.get('max_value') is not none -%}
            {%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ bounds['max_value']) -%}
        {%- endif -%}
        {%- set label = [] -%}
        {%- for bound in ['min_value', 'max_value'] if bounds.get(bound) is not none -%}
            {%- do label.append(bound ~ ' ' ~ bounds[bound]) -%}
        {%- endfor -%}
        {%- do checks.append({'column': column,
            'rule': 'accepted_range ' ~ label | join(', ') ~ ('' if inclusive else ' (exclusive)'),
            'failing': column ~ ' is not null and (' ~ outside | join(' or ') ~ ')'}) -%}
    {%- endfor -%}

    {%- for column, values in accepted_values.items() -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- do quoted.append("'" ~ dbt.escape_single_quotes(value | string) ~ "'") -%}
        {%- endfor -%}
        {%- do checks.append({'column': column, 'rule': 'accepted_values [' ~ values | join(', ') ~ ']',
            'failing': column ~ ' is not null and ' ~ column ~ ' not in (' ~ quoted | join(', ') ~ ')'}) -%}
    {%- endfor -%}

    {%- for column, source_table in in_value_domain.items() -%}
        {%- set alias = '__domain_' ~ loop.index -%}
        {%- do joins.append('left join (select distinct allowed_value as allowed from ' ~ ref('raw_value_domains')
            ~ " where source_table = '" ~ source_table ~ "' and column_name = '" ~ column ~ "') as " ~ alias
            ~ ' on tested.' ~ column ~ ' = ' ~ alias ~ '.allowed') -%}
        {%- do checks.append({'column': column, 'rule': 'in_value_domain ' ~ source_table,
            'failing': 'tested.' ~ column ~ ' is not null and ' ~ alias ~ '.allowed is null'}) -%}
    {%- endfor -%}

    {%- for column, parent in relationships.items() -%}
        {%- set alias = '__parent_' ~ loop.index -%}
        {%- do joins.append('left join (select distinct ' ~ parent['field'] ~ ' as parent_key from ' ~ parent['to']
            ~ ' where ' ~ parent['field'] ~ ' is not null) as ' ~ alias
            ~ ' on tested.' ~ column ~ ' = ' ~ alias ~ '.parent_key') -%}
        {%- do checks.append({'column': column, 'rule': 'relationships ' ~ parent['to'].identifier ~ '.' ~ parent['field'],
            'failing': 'tested.' ~ column ~ ' is not null and ' ~ alias ~ '.parent_key is null'}) -%}
    {%- endfor -%}

    {%- for entry in expressions -%}
        {%- set expression = entry if entry is string else entry['expression'] -%}
        {%- set where = none if entry is string else entry.get('where') -%}
        {%- do checks.append({'column': none,
            'rule': 'expression_is_true ' ~ expression ~ (' where ' ~ where if where else ''),
            'failing': ('(' ~ where ~ ') and ' if where else '') ~ 'not (' ~ expression ~ ')',
            'example': key_example}) -%}
    {%- endfor -%}

    {%- if row_count is not none -%}
        {%- do checks.append({'column': none, 'rule': 'row_count_equals ' ~ row_count,
            'count': 'case when count(*) <> ' ~ row_count ~ ' then 1 else 0 end',
            'example': 'cast(count(*) as ' ~ string ~ ')'}) -%}
    {%- endif -%}

    with tested as (
        select * from {{ model }}
    ),

    checked as (
        select
            {%- for check in checks %}
            {%- if 'count' in check %}
            {{ check['count'] }} as failing_{{ loop.index }},
            {%- set example = check.get('example') %}
            {%- else %}
            sum(case when {{ check['failing'] }} then 1 else 0 end) as failing_{{ loop.index }},
            {%- set value = check['example'] if 'example' in check else 'cast(tested.' ~ check['column'] ~ ' as ' ~ string ~ ')' %}
            {%- set example = 'min(case when ' ~ check['failing'] ~ ' then ' ~ value ~ ' end)' if value else none %}
            {%- endif %}
            {{ example or 'cast(null as ' ~ string ~ ')' }} as example_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from tested
        {%- for join in joins %}
        {{ join }}
        {%- endfor %}
    )

    {% for check in checks %}
    select
        {% if check['column'] is none %}cast(null as {{ string }}){% else %}'{{ check['column'] }}'{% endif %} as column_name,
        '{{ dbt.escape_single_quotes(check['rule']) }}' as rule,
        failing_{{ loop.index }} as failing_rows,
        example_{{ loop.index }} as example_value
    from checked
    where failing_{{ loop.index }} > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}

{#- A row value of the columns for count(distinct ...): equal when every column is equal, nulls
    included (so a combination with a null still counts as a value). -#}
{% macro column_rules_row(columns) %}
    {{- return(adapter.dispatch('column_rules_row', 'carepulse')(columns)) -}}
{% endmacro %}

{% macro duckdb__column_rules_row(columns) -%}
    row({{ columns | join(', ') }})
{%- endmacro %}

{% macro default__column_rules_row(columns) -%}
    struct({{ columns | join(', ') }})
{%- endmacro %}
