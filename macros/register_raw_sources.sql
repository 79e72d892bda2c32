{#-
    Expose each raw input file of the contract as a text-typed view main.raw_<table>.

    Why a hook and not a static external_location: a table may arrive as Parquet or CSV,
    and a user dropping their own files must get an error naming the file and column when
    the contract is not met, before any model runs. Every column is read as text so that a
    malformed value becomes a quarantined row in staging instead of a failed scan.
    On other adapters (Spark) the sources are real tables already: nothing to register.

    Every path that reaches SQL is a quoted string literal (carepulse.quoted_literal): the raw
    folder comes from the environment and may hold quotes (issue 11, defect 3).

    CSV lines that cannot be parsed (too many or too few fields, bytes that are not UTF-8, an
    unterminated quote) do not stop the build (issue 11, defect 4): DuckDB skips them and
    records them (store_rejects); their line numbers and the kind of problem are kept in the
    table main.raw_<table>_malformed, and the view adds one row per such line, all contract
    columns null and raw_malformed = {"file", "line", "problem"} as JSON. The line's text is
    never kept or printed: it may hold names, emails or birth dates.
-#}
{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'carepulse')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__register_raw_sources() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set raw_dir = var('raw_dir') | replace("\\", "/") %}
    {% set statements = [] %}
    {% for node in graph.sources.values() | sort(attribute='unique_id') %}
        {% if node.source_meta.get('raw_contract') %}
            {% set stem = node.meta.get('raw_file', node.name) %}
            {% set found = carepulse.find_raw_file(raw_dir, stem) %}
            {% set file_name = found.split('/') | last %}
            {% set header = carepulse.raw_file_header(found) %}
            {% set present = {} %}
            {% for name in header %}{% do present.update({name | lower: name}) %}{% endfor %}
            {% set required = node.columns.keys() | list %}
            {% do carepulse.require_raw_columns(found, node, present) %}
            {% set columns_as_text = [] %}
            {% set null_columns = [] %}
            {% for column in required %}
                {% do columns_as_text.append('cast(' ~ adapter.quote(present[column | lower]) ~ ' as varchar) as ' ~ column) %}
                {% do null_columns.append('cast(null as varchar) as ' ~ column) %}
            {% endfor %}
            {% set view = node.schema ~ '.' ~ node.identifier %}
            {% set malformed = node.schema ~ '.' ~ node.identifier ~ '_malformed' %}
            {% if found.endswith('.parquet') %}
                {% do statements.append('drop table if exists ' ~ malformed) %}
                {% do statements.append(
                    'create or replace view ' ~ view ~ ' as select ' ~ columns_as_text | join(', ')
                    ~ ', cast(null as varchar) as raw_malformed from ' ~ carepulse.raw_reader(found, header)
                ) %}
            {% else %}
                {#- DuckDB converts only the columns a query uses: without this filter, count(*)
                    would count a line with a bad byte that select * skips. Both the rejects scan
                    and the view use it, so they split the lines the same way. -#}
                {% set used = [] %}
                {% for column in required %}
                    {% do used.append(adapter.quote(present[column | lower])) %}
                {% endfor %}
                {% set all_read = 'length(concat(' ~ used | join(', ') ~ ')) >= 0' %}
                {% set rejects = 'carepulse_rejects_' ~ node.name %}
                {% do statements.append(
                    'select count(*) from ' ~ carepulse.raw_reader(found, header, rejects_table=rejects)
                    ~ ' where ' ~ all_read
                ) %}
                {% do statements.append(
                    'create or replace table ' ~ malformed ~ ' as select line, min(error_type) as problem from '
                    ~ rejects ~ ' group by line'
                ) %}
                {% do statements.append(
                    'create or replace view ' ~ view ~ ' as select ' ~ columns_as_text | join(', ')
                    ~ ', cast(null as varchar) as raw_malformed from ' ~ carepulse.raw_reader(found, header)
                    ~ ' where ' ~ all_read
                    ~ ' union all select ' ~ null_columns | join(', ')
                    ~ ", cast(json_object('file', " ~ carepulse.quoted_literal(file_name)
                    ~ ", 'line', line, 'problem', problem) as varchar) as raw_malformed from " ~ malformed
                ) %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{#- Stops the build when the file's header (present: lower-cased name -> name as spelled)
    lacks a column of the source's contract; shared by every engine's registration, so the
    message is the same on DuckDB and Spark. The header's names are not printed: when line 1
    is not a proper header the "names" are a patient's values. -#}
{% macro require_raw_columns(found, node, present) %}
    {% set missing = [] %}
    {% for column in node.columns.keys() %}
        {% if column | lower not in present %}{% do missing.append(column) %}{% endif %}
    {% endfor %}
    {% if missing %}
        {% do exceptions.raise_compiler_error(
            "Raw input contract violated: file " ~ found ~ " (table " ~ node.name
            ~ "), line 1 (the header) is missing required column(s): " ~ missing | join(', ')
            ~ ". The header has " ~ present | length ~ " column(s); the file must be"
            ~ " comma-separated UTF-8 with a header row naming the contract columns."
            ~ " See the raw input contract in README.md."
        ) %}
    {% endif %}
{% endmacro %}

{#- The file for one table: <stem>.parquet wins over <stem>.csv; neither is an error. -#}
{% macro find_raw_file(raw_dir, stem) %}
    {% for extension in ['parquet', 'csv'] %}
        {% set candidate = raw_dir ~ '/' ~ stem ~ '.' ~ extension %}
        {% set hits = run_query('select count(*) from glob(' ~ carepulse.quoted_literal(candidate) ~ ')').columns[0].values()[0] %}
        {% if hits > 0 %}{{ return(candidate) }}{% endif %}
    {% endfor %}
    {% do carepulse.raise_raw_file_missing(raw_dir, stem) %}
{% endmacro %}

{#- The error for a table with neither file, the same on every engine. -#}
{% macro raise_raw_file_missing(raw_dir, stem) %}
    {% do exceptions.raise_compiler_error(
        "Raw input file missing: expected " ~ raw_dir ~ "/" ~ stem ~ ".parquet or "
        ~ raw_dir ~ "/" ~ stem ~ ".csv (set CAREPULSE_RAW_DIR, or run `carepulse generate`)."
    ) %}
{% endmacro %}

{#- The table function reading one raw file, given its header's column names. CSV: nothing is
    guessed (DuckDB's sniffer gives up on a file with one unterminated quote anywhere, and a
    malformed first line could make it take a data row for the header): comma, double quote,
    the header's columns, all text. Lines that do not parse are skipped, or recorded in
    rejects_table when given. -#}
{% macro raw_reader(path, header, rejects_table=none) %}
    {% if path.endswith('.parquet') %}
        {{ return('read_parquet(' ~ carepulse.quoted_literal(path) ~ ')') }}
    {% endif %}
    {% set columns = [] %}
    {% for name in header %}
        {% do columns.append(carepulse.quoted_literal(name) ~ ": 'varchar'") %}
    {% endfor %}
    {#- all text keeps leading zeros (ZIP codes) and lets bad values reach the quarantine. -#}
    {% set options = [
        carepulse.quoted_literal(path), 'header = true', 'auto_detect = false',
        'columns = {' ~ columns | join(', ') ~ '}', "delim = ','", "quote = '\"'", "escape = '\"'",
    ] %}
    {% if rejects_table %}
        {% do options.extend([
            'store_rejects = true',
            'rejects_table = ' ~ carepulse.quoted_literal(rejects_table),
            'rejects_scan = ' ~ carepulse.quoted_literal(rejects_table ~ '_scan'),
        ]) %}
    {% else %}
        {% do options.append('ignore_errors = true') %}
    {% endif %}
    {{ return('read_csv(' ~ options | join(', ') ~ ')') }}
{% endmacro %}

{#- The column names of a raw file, as spelled there. CSV: the first line, read as one text
    value in a single-threaded, lenient scan (so it is line 1, whatever the lines after it
    hold) and split on commas; names may be double-quoted, but may not contain a comma. A first line that is not UTF-8 is skipped by
    that scan, so the "names" are then a data row's values: the caller reports missing
    columns without printing them. -#}
{% macro raw_file_header(path) %}
    {% if path.endswith('.parquet') %}
        {% set described = run_query('describe select * from ' ~ carepulse.raw_reader(path, [])) %}
        {{ return(described.columns[0].values() | list) }}
    {% endif %}
    {% set first_line = run_query(
        'select header_line from read_csv(' ~ carepulse.quoted_literal(path) ~ ', header = false,'
        ~ " auto_detect = false, columns = {'header_line': 'varchar'}, delim = chr(31), quote = '',"
        ~ " escape = '', ignore_errors = true, strict_mode = false, parallel = false) limit 1"
    ).columns[0].values() %}
    {% set names = [] %}
    {% for name in ((first_line | first) or '').split(',') %}
        {% set name = name | trim %}
        {#- an empty name (a trailing comma) gets DuckDB's own default name -#}
        {% if not name %}{% set name = 'column' ~ loop.index0 %}{% endif %}
        {% if name.startswith('"') and name.endswith('"') and name | length > 1 %}
            {% set name = name[1:-1] | replace('""', '"') %}
        {% endif %}
        {% do names.append(name) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}
