{#-
    Expose each raw input file of the contract as a text-typed view main.raw_<table>.

    Why a hook and not a static external_location: a table may arrive as Parquet or CSV,
    and a user dropping their own files must get an error naming the file and column when
    the contract is not met, before any model runs. Every column is read as text so that a
    malformed value becomes a quarantined row in staging instead of a failed scan.
    On other adapters (Spark) the sources are real tables already: nothing to register.
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
            {% set reader = carepulse.raw_reader(found) %}
            {% set present = carepulse.raw_file_columns(reader) %}
            {% set required = node.columns.keys() | list %}
            {% set missing = [] %}
            {% for column in required %}
                {% if column | lower not in present %}{% do missing.append(column) %}{% endif %}
            {% endfor %}
            {% if missing %}
                {% do exceptions.raise_compiler_error(
                    "Raw input contract violated: file " ~ found ~ " (table " ~ node.name
                    ~ ") is missing required column(s): " ~ missing | join(', ')
                    ~ ". Present: " ~ present | join(', ')
                    ~ ". See the raw input contract in README.md."
                ) %}
            {% endif %}
            {% set select_list = [] %}
            {% for column in required %}
                {% do select_list.append('cast(' ~ adapter.quote(present[column | lower]) ~ ' as varchar) as ' ~ column) %}
            {% endfor %}
            {% do statements.append(
                'create or replace view ' ~ node.schema ~ '.' ~ node.identifier ~ ' as select '
                ~ select_list | join(', ') ~ ' from ' ~ reader
            ) %}
        {% endif %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{#- The file for one table: <stem>.parquet wins over <stem>.csv; neither is an error. -#}
{% macro find_raw_file(raw_dir, stem) %}
    {% for extension in ['parquet', 'csv'] %}
        {% set candidate = raw_dir ~ '/' ~ stem ~ '.' ~ extension %}
        {% set hits = run_query("select count(*) from glob('" ~ candidate ~ "')").columns[0].values()[0] %}
        {% if hits > 0 %}{{ return(candidate) }}{% endif %}
    {% endfor %}
    {% do exceptions.raise_compiler_error(
        "Raw input file missing: expected " ~ raw_dir ~ "/" ~ stem ~ ".parquet or "
        ~ raw_dir ~ "/" ~ stem ~ ".csv (set CAREPULSE_RAW_DIR, or run `carepulse generate`)."
    ) %}
{% endmacro %}

{% macro raw_reader(path) %}
    {% if path.endswith('.parquet') %}
        {{ return("read_parquet('" ~ path ~ "')") }}
    {% endif %}
    {#- all_varchar keeps leading zeros (ZIP codes) and lets bad values reach the quarantine. -#}
    {{ return("read_csv('" ~ path ~ "', header = true, all_varchar = true)") }}
{% endmacro %}

{#- Lower-cased column name -> the name as spelled in the file. -#}
{% macro raw_file_columns(reader) %}
    {% set described = run_query('describe select * from ' ~ reader) %}
    {% set columns = {} %}
    {% for name in described.columns[0].values() %}
        {% do columns.update({name | lower: name}) %}
    {% endfor %}
    {{ return(columns) }}
{% endmacro %}
