{#-
    Spark: the same raw input contract as duckdb__register_raw_sources, on the same raw folder:
    <table>.parquet, else <table>.csv, else the folder <table>/ of .parquet and .csv files
    (carepulse.find_raw_files, so the same files are chosen and the same errors raised).

    Each raw file becomes an external table main.raw_<table>__file_<n> (csv with its header's
    columns declared as text, or parquet) and the text-typed view main.raw_<table> unions them
    with the contract columns (matched by name, per file), source_file (the file's path below
    the raw folder, as on DuckDB) and raw_malformed. Why external tables and not temporary
    views: staging views are stored in the metastore and cannot refer to temporary views, and
    dropping an external table never deletes the raw file. Why one table per file: a folder's
    files may differ in format and column order, and the file's name is then a literal.

    Missing file or missing column: the same errors as on DuckDB, naming the file and the
    column. The folder is listed once through the binaryFile source (Spark SQL has no glob();
    like every Spark file source it skips names starting with '.' or '_').

    CSV lines that cannot be parsed (wrong field count, broken quote) are kept by Spark's
    PERMISSIVE mode in the corrupt-record column; the view turns each into one row with null
    contract columns and raw_malformed = {"file", "line": null, "problem"}: Spark does not
    know line numbers, so the line is null here (DuckDB gives it). The text is never kept.
-#}
{% macro spark__register_raw_sources() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set raw_dir = var('raw_dir') | replace("\\", "/") %}
    {% set listing = carepulse.spark_raw_listing(raw_dir) %}
    {% for node in graph.sources.values() | sort(attribute='unique_id') %}
        {% if node.source_meta.get('raw_contract') %}
            {% set stem = node.meta.get('raw_file', node.name) %}
            {% set files = carepulse.find_raw_files(raw_dir, stem, listing) %}
            {% do run_query('create database if not exists ' ~ node.schema) %}
            {% set selects = [] %}
            {% for found in files %}
                {% set format = 'parquet' if found.endswith('.parquet') else 'csv' %}
                {% set header = carepulse.spark_raw_file_header(found, format) %}
                {% set present = {} %}
                {% for name in header %}{% do present.update({name | lower: name}) %}{% endfor %}
                {% do carepulse.require_raw_columns(found, node, present) %}
                {% set file_table = node.schema ~ '.' ~ node.identifier ~ '__file_' ~ loop.index %}
                {% do run_query('drop table if exists ' ~ file_table) %}
                {% do run_query(carepulse.spark_raw_file_table(file_table, found, format, header)) %}
                {% set source_file = carepulse.quoted_literal(found[raw_dir | length + 1:]) %}
                {% set columns_as_text = [] %}
                {% for column in node.columns.keys() %}
                    {% set source_column = adapter.quote(present[column | lower]) %}
                    {% if format == 'csv' %}
                        {% do columns_as_text.append(
                            'case when _corrupt_record is null then cast(' ~ source_column ~ ' as string) end as ' ~ column
                        ) %}
                    {% else %}
                        {% do columns_as_text.append('cast(' ~ source_column ~ ' as string) as ' ~ column) %}
                    {% endif %}
                {% endfor %}
                {% if format == 'csv' %}
                    {% set malformed = "case when _corrupt_record is not null then to_json(named_struct('file', "
                        ~ source_file ~ ", 'line', cast(null as int), 'problem', 'MALFORMED')) end" %}
                {% else %}
                    {% set malformed = 'cast(null as string)' %}
                {% endif %}
                {% do selects.append(
                    'select ' ~ columns_as_text | join(', ') ~ ', ' ~ source_file ~ ' as source_file, '
                    ~ malformed ~ ' as raw_malformed from ' ~ file_table
                ) %}
            {% endfor %}
            {% do carepulse.spark_drop_stale_file_tables(node, files | length) %}
            {% do run_query(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier ~ ' as ' ~ selects | join(' union all ')
            ) %}
        {% endif %}
    {% endfor %}
    {#- Spark runs one statement per call: everything ran above, the hook itself is empty. -#}
    {{ return('') }}
{% endmacro %}

{#- Every file below the raw folder, listed by Spark itself (so a cluster sees its own file
    system), as raw_dir/<path below it>. Only the path column is read, never the contents. -#}
{% macro spark_raw_listing(raw_dir) %}
    {% do run_query(
        'create or replace temporary view carepulse_raw_listing using binaryFile options (path '
        ~ carepulse.quoted_literal(raw_dir) ~ ", recursiveFileLookup 'true')"
    ) %}
    {% set listed = run_query('select path from carepulse_raw_listing') %}
    {% do run_query('drop view if exists carepulse_raw_listing') %}
    {% set core = raw_dir.rstrip('/') %}
    {% set core = core[2:] if core.startswith('./') else core %}
    {#- Spark qualifies each path (file:/abs/raw/x.csv): keep what follows the raw folder. -#}
    {% set marker = ('' if core.startswith('/') else '/') ~ core ~ '/' %}
    {% set paths = [] %}
    {% for path in listed.columns[0].values() %}
        {% if path.startswith(core ~ '/') %}
            {% do paths.append(raw_dir ~ '/' ~ path[core | length + 1:]) %}
        {% elif path.find(marker) >= 0 %}
            {% do paths.append(raw_dir ~ '/' ~ path[path.find(marker) + marker | length:]) %}
        {% endif %}
    {% endfor %}
    {{ return(paths) }}
{% endmacro %}

{#- The column names of one raw file: a parquet file's schema, or a CSV file's first line read
    as text (split like on DuckDB: carepulse.split_header_line). -#}
{% macro spark_raw_file_header(path, format) %}
    {% set quoted_path = '`' ~ path | replace('`', '``') ~ '`' %}
    {% if format == 'parquet' %}
        {{ return(run_query('select * from parquet.' ~ quoted_path ~ ' limit 0').column_names | list) }}
    {% endif %}
    {% set first_line = run_query('select value from text.' ~ quoted_path ~ ' limit 1').columns[0].values() %}
    {{ return(carepulse.split_header_line(first_line | first)) }}
{% endmacro %}

{#- An external table over one raw file. CSV: the dialect is fixed like on DuckDB (comma,
    double quote, header) and nothing is inferred: the header's columns are declared as text
    (leading zeros of ZIP codes kept), plus the corrupt-record column, which Spark fills only
    when declared; the header line is skipped, its names already read. -#}
{% macro spark_raw_file_table(file_table, path, format, header) %}
    {% set options = ['path ' ~ carepulse.quoted_literal(path)] %}
    {% set schema_sql = '' %}
    {% if format == 'csv' %}
        {% do options.extend([
            "header 'true'", "inferSchema 'false'", "sep ','", "quote '\"'", "escape '\"'",
            "encoding 'UTF-8'", "mode 'PERMISSIVE'", "enforceSchema 'true'",
            "columnNameOfCorruptRecord '_corrupt_record'",
        ]) %}
        {% set declared = [] %}
        {% for column in header %}
            {% do declared.append(adapter.quote(column) ~ ' string') %}
        {% endfor %}
        {% do declared.append('_corrupt_record string') %}
        {% set schema_sql = ' (' ~ declared | join(', ') ~ ')' %}
    {% endif %}
    {{ return('create table ' ~ file_table ~ schema_sql ~ ' using ' ~ format ~ ' options (' ~ options | join(', ') ~ ')') }}
{% endmacro %}

{#- Drops the per-file tables of an earlier build that had more files (or the single-table
    layout raw_<table>__file), so the schema holds only tables the view reads. -#}
{% macro spark_drop_stale_file_tables(node, file_count) %}
    {% set listed = run_query('show tables in ' ~ node.schema ~ " like '" ~ node.identifier ~ "__file*'") %}
    {% set current = [] %}
    {% for index in range(1, file_count + 1) %}
        {% do current.append(node.identifier ~ '__file_' ~ index) %}
    {% endfor %}
    {% for row in listed.rows %}
        {% if row['tableName'] not in current and not row['isTemporary'] %}
            {% do run_query('drop table if exists ' ~ node.schema ~ '.' ~ row['tableName']) %}
        {% endif %}
    {% endfor %}
{% endmacro %}

{#- The raw view carries raw_malformed and source_file on Spark too. -#}
{% macro spark__raw_malformed() -%}
    raw_malformed
{%- endmacro %}
