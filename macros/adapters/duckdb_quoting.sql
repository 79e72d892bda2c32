{#-
    Overrides of dbt-duckdb 1.11.1 macros (dbt/include/duckdb/macros/adapters.sql and
    catalog.sql) that paste the catalog name into a SQL string literal unquoted. dbt-duckdb
    names the catalog after the DuckDB file (CAREPULSE_DB up to its first dot), so a `'` in the
    file name ended the literal: a parser error before any model ran with a plain `dbt build`
    or `dbt docs generate` (issue 11, defect 3). Each override is the upstream macro with that
    one change: the name goes through carepulse.quoted_literal (the engine's own quoting, `'`
    doubled). Drop a macro here when dbt-duckdb quotes it itself.

    A `"` in the file name cannot be fixed by macros: dbt renders every relation in Python
    as "<catalog>"."<schema>"."<table>" without doubling an inner `"` (dbt-adapters
    BaseRelation.quoted). The profile therefore names the catalog itself when the file name
    holds one (see profiles.yml).
-#}

{#- dbt-duckdb 1.11.1 duckdb__create_schema: the attached-database type lookup. -#}
{% macro duckdb__create_schema(relation) -%}
  {%- call statement('create_schema') -%}
    {% set sql %}
        select type from duckdb_databases()
        where lower(database_name) = {{ carepulse.quoted_literal(relation.database | lower) }}
        and type != 'duckdb'
    {% endset %}
    {% set results = run_query(sql) %}
    {% if results | length == 0 %}
        create schema if not exists {{ relation.without_identifier() }}
    {% else %}
        {% set attached_type = results.columns[0].values()[0] %}
        {% if attached_type == 'sqlite' and relation.schema != 'main' %}
            {{ exceptions.raise_compiler_error(
                "Schema must be 'main' when writing to sqlite "
                ~ "instead got " ~ relation.schema
            ) }}
        {% elif attached_type not in ['sqlite', 'mysql'] %}
            create schema if not exists {{ relation.without_identifier() }}
        {% endif %}
    {% endif %}
  {%- endcall -%}
{% endmacro %}

{#- dbt-duckdb 1.11.1 duckdb__list_schemas. dbt-core's create_schemas passes the database
    identifier-quoted ("name"), so upstream's filter matches no row and dbt issues
    `create schema if not exists` for every schema; kept as it is (only the quoting changes). -#}
{% macro duckdb__list_schemas(database) -%}
  {% set sql %}
    select schema_name
    from system.information_schema.schemata
    {% if database is not none %}
    where lower(catalog_name) = {{ carepulse.quoted_literal(database | lower) }}
    {% endif %}
  {% endset %}
  {{ return(run_query(sql)) }}
{% endmacro %}

{#- dbt-duckdb 1.11.1 duckdb__check_schema_exists. -#}
{% macro duckdb__check_schema_exists(information_schema, schema) -%}
  {% set sql -%}
        select count(*)
        from system.information_schema.schemata
        where lower(schema_name) = {{ carepulse.quoted_literal(schema | lower) }}
        and lower(catalog_name) = {{ carepulse.quoted_literal(information_schema.database | lower) }}
  {%- endset %}
  {{ return(run_query(sql)) }}
{% endmacro %}

{#- dbt-duckdb 1.11.1 duckdb__list_relations_without_caching (the relation cache). -#}
{% macro duckdb__list_relations_without_caching(schema_relation) %}
  {% call statement('list_relations_without_caching', fetch_result=True) -%}
    select
      {{ carepulse.quoted_literal(schema_relation.database) }} as database,
      table_name as name,
      table_schema as schema,
      CASE table_type
        WHEN 'BASE TABLE' THEN 'table'
        WHEN 'VIEW' THEN 'view'
        WHEN 'LOCAL TEMPORARY' THEN 'table'
        END as type
    from system.information_schema.tables
    where lower(table_schema) = {{ carepulse.quoted_literal(schema_relation.schema | lower) }}
    and lower(table_catalog) = {{ carepulse.quoted_literal(schema_relation.database | lower) }}
  {% endcall %}
  {{ return(load_result('list_relations_without_caching').table) }}
{% endmacro %}

{#- dbt-duckdb 1.11.1 drop_indexes_on_relation (not dispatched: the table and incremental
    materializations call it by name on every rebuild of an existing table; the root
    project's macro wins). The DROP INDEX names are quoted as identifiers too. -#}
{% macro drop_indexes_on_relation(relation) -%}
  {% call statement('get_indexes_on_relation', fetch_result=True, auto_begin=False) %}
    SELECT index_name
    FROM duckdb_indexes()
    WHERE database_name = {{ carepulse.quoted_literal(relation.database) }}
      AND schema_name = {{ carepulse.quoted_literal(relation.schema) }}
      AND table_name = {{ carepulse.quoted_literal(relation.identifier) }}
  {% endcall %}

  {% set results = load_result('get_indexes_on_relation').table %}
  {% for row in results %}
    {% set index_name = row[0] %}
    {% call statement('drop_index_' + loop.index | string, auto_begin=false) %}
      DROP INDEX {{ carepulse.duckdb_quoted_identifier(relation.database) }}.{{ carepulse.duckdb_quoted_identifier(relation.schema) }}.{{ carepulse.duckdb_quoted_identifier(index_name) }}
    {% endcall %}
  {% endfor %}
{%- endmacro %}

{#- dbt-duckdb 1.11.1 duckdb__get_catalog_tables_sql (`dbt docs generate`). -#}
{% macro duckdb__get_catalog_tables_sql(information_schema) -%}
    {%- set catalog = carepulse.quoted_literal(information_schema.database) -%}
    select *
    from (
        select
            t.database_name as table_database,
            t.schema_name as table_schema,
            t.table_name as table_name,
            'BASE TABLE' as table_type,
            t.comment as table_comment
        from duckdb_tables() t
        where upper(t.database_name) = upper({{ catalog }})

        union all

        select
            v.database_name as table_database,
            v.schema_name as table_schema,
            v.view_name as table_name,
            'VIEW' as table_type,
            v.comment as table_comment
        from duckdb_views() v
        where upper(v.database_name) = upper({{ catalog }})
    ) catalog_tables
{%- endmacro %}

{#- dbt-duckdb 1.11.1 duckdb__get_catalog_columns_sql (`dbt docs generate`). -#}
{% macro duckdb__get_catalog_columns_sql(information_schema) -%}
    select *
    from (
        select
            c.database_name as table_database,
            c.schema_name as table_schema,
            c.table_name as table_name,
            c.column_name as column_name,
            c.column_index as column_index,
            c.data_type as column_type,
            c.comment as column_comment
        from duckdb_columns() c
        where upper(c.database_name) = upper({{ carepulse.quoted_literal(information_schema.database) }})
    ) catalog_columns
{%- endmacro %}

{#- A name as a DuckDB identifier: in double quotes, an inner `"` doubled (the engine's own
    quoting; dbt's adapter.quote does not double it). -#}
{% macro duckdb_quoted_identifier(name) -%}
  {{ return('"' ~ (name | string | replace('"', '""')) ~ '"') }}
{%- endmacro %}
