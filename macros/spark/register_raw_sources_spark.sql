{#-
    Spark: the same raw input contract as duckdb__register_raw_sources, on the same raw folder.

    Each raw file becomes an external table main.raw_<table>__file (csv with a header or
    parquet, every column read as text, no schema inference) and the text-typed view
    main.raw_<table> over it, with the contract columns and raw_malformed. Why external
    tables and not temporary views: staging views are stored in the metastore and cannot
    refer to temporary views, and dropping an external table never deletes the raw file.

    Missing file or missing column: the same errors as on DuckDB, naming the file and the
    column. The folder is listed once through the binaryFile source (Spark SQL has no glob()).

    CSV lines that cannot be parsed (wrong field count, broken quote) are kept by Spark's
    PERMISSIVE mode in the corrupt-record column; the view turns each into one row with null
    contract columns and raw_malformed = {"file", "line": null, "problem"}: Spark does not
    know line numbers, so the line is null here (DuckDB gives it). The text is never kept.
-#}
{% macro spark__register_raw_sources() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set raw_dir = var('raw_dir') | replace("\\", "/") %}
    {% set present_files = carepulse.spark_raw_folder_files(raw_dir) %}
    {% for node in graph.sources.values() | sort(attribute='unique_id') %}
        {% if node.source_meta.get('raw_contract') %}
            {% set stem = node.meta.get('raw_file', node.name) %}
            {% set found = carepulse.spark_find_raw_file(raw_dir, stem, present_files) %}
            {% set file_name = found.split('/') | last %}
            {% set format = 'parquet' if found.endswith('.parquet') else 'csv' %}
            {% set file_table = node.schema ~ '.' ~ node.identifier ~ '__file' %}
            {% do run_query('create database if not exists ' ~ node.schema) %}
            {% do run_query('drop table if exists ' ~ file_table) %}
            {% do run_query(carepulse.spark_raw_file_table(file_table, found, format)) %}
            {% set present = {} %}
            {% for column in adapter.get_columns_in_relation(api.Relation.create(schema=node.schema, identifier=node.identifier ~ '__file')) %}
                {% do present.update({column.name | lower: column.name}) %}
            {% endfor %}
            {% set required = node.columns.keys() | list %}
            {% if required | map('lower') | reject('in', present) | list | length > 0 %}
                {% do run_query('drop table if exists ' ~ file_table) %}
            {% endif %}
            {% do carepulse.require_raw_columns(found, node, present) %}
            {% set header = present.values() | list %}
            {% if format == 'csv' %}
                {#- Recreate with the header's columns as an explicit all-text schema plus the
                    corrupt-record column, which Spark fills only when declared. -#}
                {% do run_query('drop table if exists ' ~ file_table) %}
                {% do run_query(carepulse.spark_raw_file_table(file_table, found, format, header)) %}
            {% endif %}
            {% set columns_as_text = [] %}
            {% for column in required %}
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
                    ~ carepulse.quoted_literal(file_name) ~ ", 'line', cast(null as int), 'problem', 'MALFORMED')) end" %}
            {% else %}
                {% set malformed = 'cast(null as string)' %}
            {% endif %}
            {% do run_query(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier ~ ' as select '
                ~ columns_as_text | join(', ') ~ ', ' ~ malformed ~ ' as raw_malformed from ' ~ file_table
            ) %}
        {% endif %}
    {% endfor %}
    {#- Spark runs one statement per call: everything ran above, the hook itself is empty. -#}
    {{ return('') }}
{% endmacro %}

{#- The names of the files directly in the raw folder, listed by Spark itself (so a cluster
    sees its own file system). Only the path column is read, never the files' contents. -#}
{% macro spark_raw_folder_files(raw_dir) %}
    {% set listing = run_query(
        'select path from binaryFile.`' ~ raw_dir | replace('`', '``') ~ '`'
    ) %}
    {% set names = [] %}
    {% for path in listing.columns[0].values() %}
        {% do names.append(path.split('/') | last) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}

{#- The file for one table: <stem>.parquet wins over <stem>.csv; neither is an error (the
    same message as find_raw_file on DuckDB). -#}
{% macro spark_find_raw_file(raw_dir, stem, present_files) %}
    {% for extension in ['parquet', 'csv'] %}
        {% if stem ~ '.' ~ extension in present_files %}{{ return(raw_dir ~ '/' ~ stem ~ '.' ~ extension) }}{% endif %}
    {% endfor %}
    {% do carepulse.raise_raw_file_missing(raw_dir, stem) %}
{% endmacro %}

{#- An external table over one raw file. CSV: the dialect is fixed like on DuckDB (comma,
    double quote, header) and nothing is inferred, so every value stays text (leading zeros of
    ZIP codes kept). With text_columns, those columns are declared as the schema. -#}
{% macro spark_raw_file_table(file_table, path, format, text_columns=none) %}
    {% set options = ['path ' ~ carepulse.quoted_literal(path)] %}
    {% if format == 'csv' %}
        {% do options.extend([
            "header 'true'", "inferSchema 'false'", "sep ','", "quote '\"'", "escape '\"'",
            "encoding 'UTF-8'", "mode 'PERMISSIVE'", "enforceSchema 'false'",
            "columnNameOfCorruptRecord '_corrupt_record'",
        ]) %}
    {% endif %}
    {% set schema_sql = '' %}
    {% if text_columns is not none %}
        {% set declared = [] %}
        {% for column in text_columns %}
            {% do declared.append(adapter.quote(column) ~ ' string') %}
        {% endfor %}
        {% do declared.append('_corrupt_record string') %}
        {% set schema_sql = ' (' ~ declared | join(', ') ~ ')' %}
    {% endif %}
    {{ return('create table ' ~ file_table ~ schema_sql ~ ' using ' ~ format ~ ' options (' ~ options | join(', ') ~ ')') }}
{% endmacro %}

{#- The raw view carries raw_malformed on Spark too. -#}
{% macro spark__raw_malformed() -%}
    raw_malformed
{%- endmacro %}
