{#-
    Stops the dbt invocation when a table outside staging has a column named like a direct
    identifier of a raw source (a source column with meta.identifier: true).

    Why an on-run-end hook and not a singular test: a test runs as soon as the models it refs
    are built, and a test that refs every model would have to list them by hand (the graph is
    empty while dbt parses, so a loop cannot write the refs). The hook runs after every node of
    the invocation (`dbt build`, the post-ML build, a partial build), so it sees every
    intermediate, mart, ml and audit table there is, and a table added later is guarded
    without editing anything.
-#}
{% macro assert_no_identifier_columns() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set identifiers = [] %}
    {% for node in graph.sources.values() %}
        {% for column in node.columns.values() %}
            {% if column.meta.get('identifier') and column.name | lower not in identifiers %}
                {% do identifiers.append(column.name | lower) %}
            {% endif %}
        {% endfor %}
    {% endfor %}
    {% set leaks = adapter.dispatch('identifier_columns_outside_staging', 'carepulse')(identifiers | sort) %}
    {% if leaks %}
        {{ return(adapter.dispatch('fail_hook_sql', 'carepulse')(
            "Privacy rule violated: direct identifier column(s) outside staging: " ~ leaks | join(', ')
            ~ ". Identifiers (meta.identifier: true in the source YAML) must be dropped in staging."
        )) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{#- SQL that makes a hook fail with `message`: dbt then reports the hook as an error with the
    message and exits non-zero. Where the engine has no error function, fail while compiling. -#}
{% macro duckdb__fail_hook_sql(message) %}
    {{ return('select error(' ~ dbt.string_literal(message) ~ ')') }}
{% endmacro %}

{% macro spark__fail_hook_sql(message) %}
    {{ return('select raise_error(' ~ dbt.string_literal(message) ~ ')') }}
{% endmacro %}

{% macro default__fail_hook_sql(message) %}
    {% do exceptions.raise_compiler_error(message) %}
{% endmacro %}

{#- The schemas the rule guards: everything the warehouse holds after staging. -#}
{% macro guarded_schemas() %}
    {{ return(['intermediate', 'marts', 'ml', 'audit']) }}
{% endmacro %}

{#- 'schema.table.column' for each guarded column named like an identifier, from the catalog. -#}
{% macro duckdb__identifier_columns_outside_staging(identifiers) %}
    {% set sql %}
        select table_schema || '.' || table_name || '.' || lower(column_name) as found
        from information_schema.columns
        where
            table_catalog = current_database()
            and table_schema in ('{{ carepulse.guarded_schemas() | join("', '") }}')
            and lower(column_name) in ('{{ identifiers | join("', '") }}')
        order by found
    {% endset %}
    {{ return(run_query(sql).columns[0].values() | list) }}
{% endmacro %}

{#- Engines without information_schema (Spark): the columns of every relation dbt knows in
    the guarded schemas (models, and the ml tables declared as sources). -#}
{% macro default__identifier_columns_outside_staging(identifiers) %}
    {% set found = [] %}
    {% set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list
        + graph.sources.values() | list %}
    {% for node in nodes if node.schema in carepulse.guarded_schemas() %}
        {% set relation = adapter.get_relation(node.database, node.schema, node.identifier or node.alias) %}
        {% if relation is not none %}
            {% for column in adapter.get_columns_in_relation(relation) %}
                {% if column.name | lower in identifiers %}
                    {% do found.append(node.schema ~ '.' ~ relation.identifier ~ '.' ~ column.name | lower) %}
                {% endif %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return(found) }}
{% endmacro %}
