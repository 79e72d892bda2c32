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
            {% set required = node.columns.keys() | list %}
            {#- Files with the same format and header are read by one reader (a list of files);
                each file's header is checked against the contract on its own. -#}
            {% set groups = {} %}
            {% set group_order = [] %}
            {% set files = carepulse.find_raw_files(raw_dir, stem) %}
            {% set in_folder = files | length > 1 or files[0] not in [
                raw_dir ~ '/' ~ stem ~ '.parquet', raw_dir ~ '/' ~ stem ~ '.csv'] %}
            {% for found in files %}
                {% set header = carepulse.raw_file_header(found) %}
                {% set present = {} %}
                {% for name in header %}{% do present.update({name | lower: name}) %}{% endfor %}
                {% do carepulse.require_raw_columns(found, node, present) %}
                {% set key = found.split('.') | last ~ ':' ~ header | join(',') %}
                {% if key not in groups %}
                    {% do groups.update({key: {'header': header, 'present': present, 'paths': []}}) %}
                    {% do group_order.append(key) %}
                {% endif %}
                {% do groups[key]['paths'].append(found) %}
            {% endfor %}
            {% set view = node.schema ~ '.' ~ node.identifier %}
            {% set malformed = node.schema ~ '.' ~ node.identifier ~ '_malformed' %}
            {#- source_file: the file's path below the raw folder, e.g. claims.csv or claims/2025-01-02.csv
                (built from the file name: DuckDB's glob normalizes the folder part of paths) -#}
            {% set folder_prefix = carepulse.quoted_literal(stem ~ '/' if in_folder else '') %}
            {% set source_file = 'concat(' ~ folder_prefix ~ ', parse_filename(filename))' %}
            {% set selects = [] %}
            {% set rejected = [] %}
            {% for key in group_order %}
                {% set group = groups[key] %}
                {% set columns_as_text = [] %}
                {% set used = [] %}
                {% for column in required %}
                    {% do columns_as_text.append('cast(' ~ adapter.quote(group.present[column | lower]) ~ ' as varchar) as ' ~ column) %}
                    {% do used.append(adapter.quote(group.present[column | lower])) %}
                {% endfor %}
                {% set select = 'select ' ~ columns_as_text | join(', ') ~ ', ' ~ source_file ~ ' as source_file'
                    ~ ', cast(null as varchar) as raw_malformed from ' %}
                {% if key.startswith('parquet:') %}
                    {% do selects.append(select ~ carepulse.raw_reader(group.paths, group.header)) %}
                {% else %}
                    {#- DuckDB converts only the columns a query uses: without this filter, count(*)
                        would count a line with a bad byte that select * skips. Both the rejects scan
                        and the view use it, so they split the lines the same way. -#}
                    {% set all_read = 'length(concat(' ~ used | join(', ') ~ ')) >= 0' %}
                    {% set rejects = 'carepulse_rejects_' ~ node.name ~ '_' ~ loop.index %}
                    {% do statements.append(
                        'select count(*) from ' ~ carepulse.raw_reader(group.paths, group.header, rejects_table=rejects)
                        ~ ' where ' ~ all_read
                    ) %}
                    {% do rejected.append(
                        'select scans.file_path, errors.line, errors.error_type from ' ~ rejects ~ ' as errors'
                        ~ ' inner join ' ~ rejects ~ '_scan as scans on errors.scan_id = scans.scan_id'
                        ~ ' and errors.file_id = scans.file_id'
                    ) %}
                    {% do selects.append(select ~ carepulse.raw_reader(group.paths, group.header) ~ ' where ' ~ all_read) %}
                {% endif %}
            {% endfor %}
            {% if rejected %}
                {% do statements.append(
                    'create or replace table ' ~ malformed ~ ' as select concat(' ~ folder_prefix
                    ~ ', parse_filename(file_path)) as source_file, line, min(error_type) as problem from ('
                    ~ rejected | join(' union all ') ~ ') group by all'
                ) %}
                {% set null_columns = [] %}
                {% for column in required %}
                    {% do null_columns.append('cast(null as varchar) as ' ~ column) %}
                {% endfor %}
                {% do selects.append(
                    'select ' ~ null_columns | join(', ') ~ ', source_file'
                    ~ ", cast(json_object('file', source_file, 'line', line, 'problem', problem) as varchar)"
                    ~ ' as raw_malformed from ' ~ malformed
                ) %}
            {% else %}
                {% do statements.append('drop table if exists ' ~ malformed) %}
            {% endif %}
            {% do statements.append('create or replace view ' ~ view ~ ' as ' ~ selects | join(' union all ')) %}
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

{#- The files of one table, sorted: <stem>.parquet, else <stem>.csv (Parquet wins over a stale
    CSV), else every *.parquet and *.csv file in the folder <stem>/ (any names, e.g. one per day;
    names starting with a dot are skipped). A file and a folder for the same table is an error
    (which one holds the truth?), and so is neither. listing: every file below raw_dir, when
    the engine has no glob() (Spark lists the folder once); else DuckDB's glob() is asked. -#}
{% macro find_raw_files(raw_dir, stem, listing=none) %}
    {% set single = [] %}
    {% for extension in ['parquet', 'csv'] %}
        {% set candidate = raw_dir ~ '/' ~ stem ~ '.' ~ extension %}
        {% if not single and carepulse.match_raw(candidate, listing) %}{% do single.append(candidate) %}{% endif %}
    {% endfor %}
    {% set folder = [] %}
    {% for path in carepulse.match_raw(raw_dir ~ '/' ~ stem ~ '/*.parquet', listing)
        + carepulse.match_raw(raw_dir ~ '/' ~ stem ~ '/*.csv', listing) %}
        {% if not (path.split('/') | last).startswith('.') %}{% do folder.append(path) %}{% endif %}
    {% endfor %}
    {% if single and folder %}
        {% do exceptions.raise_compiler_error(
            "Raw input is ambiguous: both " ~ single[0] ~ " and the folder " ~ raw_dir ~ "/" ~ stem
            ~ "/ hold rows of table " ~ stem ~ "; keep one (see the raw input contract in README.md)."
        ) %}
    {% endif %}
    {% if single or folder %}{{ return(single or folder | sort) }}{% endif %}
    {% do carepulse.raise_raw_file_missing(raw_dir, stem) %}
{% endmacro %}

{#- The error for a table with no file, the same on every engine. -#}
{% macro raise_raw_file_missing(raw_dir, stem) %}
    {% do exceptions.raise_compiler_error(
        "Raw input file missing: expected " ~ raw_dir ~ "/" ~ stem ~ ".parquet or "
        ~ raw_dir ~ "/" ~ stem ~ ".csv or a folder " ~ raw_dir ~ "/" ~ stem
        ~ "/ of .parquet or .csv files (set CAREPULSE_RAW_DIR, or run `carepulse generate`)."
    ) %}
{% endmacro %}

{#- The paths matching a pattern (a path, or one * within a file name): from listing when
    given, else from DuckDB's glob() with the rest of the pattern escaped (glob_escaped). -#}
{% macro match_raw(pattern, listing=none) %}
    {% if listing is none %}
        {% set escaped = [] %}
        {% for part in pattern.split('*') %}{% do escaped.append(carepulse.glob_escaped(part)) %}{% endfor %}
        {{ return(carepulse.glob_raw(escaped | join('*'))) }}
    {% endif %}
    {% set parts = pattern.split('*', 1) %}
    {% set matched = [] %}
    {% for path in listing %}
        {% if parts | length == 1 %}
            {% if path == pattern %}{% do matched.append(path) %}{% endif %}
        {% elif path.startswith(parts[0]) and path.endswith(parts[1])
            and '/' not in path[parts[0] | length:] and path | length >= pattern | length - 1 %}
            {% do matched.append(path) %}
        {% endif %}
    {% endfor %}
    {{ return(matched | sort) }}
{% endmacro %}

{#- A path as a DuckDB glob pattern matching exactly that path: `*`, `?` and `[` in a folder or
    file name (CAREPULSE_RAW_DIR comes from the environment) become the one-character classes
    `[*]`, `[?]` and `[[]`. DuckDB globs every path given to glob(), read_csv() and
    read_parquet(), so an unescaped `raw[1]` folder read `raw1` instead. -#}
{% macro glob_escaped(path) %}
    {{ return(path | replace('[', '[[]') | replace('*', '[*]') | replace('?', '[?]')) }}
{% endmacro %}

{#- The paths matching one glob pattern, with forward slashes. -#}
{% macro glob_raw(pattern) %}
    {% set found = run_query('select file from glob(' ~ carepulse.quoted_literal(pattern) ~ ') order by file') %}
    {% set paths = [] %}
    {% for path in found.columns[0].values() %}{% do paths.append(path | replace("\\", "/")) %}{% endfor %}
    {{ return(paths) }}
{% endmacro %}

{#- The table function reading raw files (one path, or a list of paths of the same format and
    header), given their header's column names, with a column filename naming each row's file.
    CSV: nothing is guessed (DuckDB's sniffer gives up on a file with one unterminated quote
    anywhere, and a malformed first line could make it take a data row for the header): comma,
    double quote, the header's columns, all text. Lines that do not parse are skipped, or
    recorded in rejects_table when given. -#}
{% macro raw_reader(path, header, rejects_table=none) %}
    {% set paths = [path] if path is string else path %}
    {% set quoted = [] %}
    {% for one in paths %}{% do quoted.append(carepulse.quoted_literal(carepulse.glob_escaped(one))) %}{% endfor %}
    {% set files = '[' ~ quoted | join(', ') ~ ']' %}
    {% if paths[0].endswith('.parquet') %}
        {{ return('read_parquet(' ~ files ~ ', filename = true)') }}
    {% endif %}
{% set columns = [] %}
    {% for name in header %}
        {% do columns.append(carepulse.quoted_literal(name) ~ ": 'varchar'") %}
    {% endfor %}
    {#- all text keeps leading zeros (ZIP codes) and lets bad values reach the quarantine. -#}
    {% set options = [
        files, 'header = true', 'auto_detect = false', 'filename = true',
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
        {% set described = run_query(
            'describe select * from read_parquet(' ~ carepulse.quoted_literal(carepulse.glob_escaped(path)) ~ ')'
        ) %}
        {{ return(described.columns[0].values() | list) }}
    {% endif %}
    {% set first_line = run_query(
        'select header_line from read_csv(' ~ carepulse.quoted_literal(carepulse.glob_escaped(path)) ~ ', header = false,'
        ~ " auto_detect = false, columns = {'header_line': 'varchar'}, delim = chr(31), quote = '',"
        ~ " escape = '', ignore_errors = true, strict_mode = false, parallel = false) limit 1"
    ).columns[0].values() %}
    {{ return(carepulse.split_header_line(first_line | first)) }}
{% endmacro %}

{#- A CSV header line split into column names, as every engine's header read does: split on
    commas (a name may be double-quoted but may not contain a comma), trimmed; an empty name
    (a trailing comma) gets DuckDB's own default name column<i>. -#}
{% macro split_header_line(line) %}
    {% set names = [] %}
    {% for name in (line or '').split(',') %}
        {% set name = name | trim %}
        {% if not name %}{% set name = 'column' ~ loop.index0 %}{% endif %}
        {% if name.startswith('"') and name.endswith('"') and name | length > 1 %}
            {% set name = name[1:-1] | replace('""', '"') %}
        {% endif %}
        {% do names.append(name) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}
