{#- Incremental audit (issue 13): the audit of a large raw table reads only the raw files it
    has not audited yet (plus the few older files holding an accepted row whose verdict a new
    file may change), so a daily build does not re-read the history. The rows to re-check are
    listed by the table's audit_<table>_recheck model, which runs before the audit. -#}

{#- The config of an incrementally audited table: delete+insert by record_key on DuckDB (every
    row of a re-checked key is deleted and the key's rows inserted again with their new
    verdicts; rows without a key are only ever inserted). Other engines (Spark) rebuild the
    audit in full as a table: a merge needs one source row per key, and a key's rows are many. -#}
{% macro audit_incremental_config(raw_tables=[]) -%}
    {{ return(adapter.dispatch('audit_incremental_config', 'carepulse')(raw_tables)) }}
{%- endmacro %}

{% macro default__audit_incremental_config(raw_tables=[]) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}

{#- raw_tables: the (source, table) pairs whose rows the model holds, by source_file; before an
    incremental run the rows of files gone from the raw folder (removed, or moved: e.g. a table's
    single file moved into its folder) are deleted (macro delete_rows_of_gone_files), and the
    recheck model lists their keys, so they are checked again without them. -#}
{% macro duckdb__audit_incremental_config(raw_tables=[]) -%}
    {%- set hooks = [] %}
    {%- for source_name, table_name in raw_tables %}
        {%- do hooks.append(
            "{% if is_incremental() %}{{ carepulse.delete_rows_of_gone_files('"
            ~ source_name ~ "', '" ~ table_name ~ "', " ~ (raw_tables | length > 1) ~ ") }}{% endif %}"
        ) %}
    {%- endfor %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'record_key',
        'on_schema_change': 'fail',
        'pre_hook': hooks,
    }) }}
{%- endmacro %}

{#- The statement deleting the model's rows of a raw table's files that are gone from the raw
    folder (by source_file; by_table: the model holds several tables, told apart by source_table). -#}
{% macro delete_rows_of_gone_files(source_name, table_name, by_table=false) -%}
    delete from {{ this }}
    where
        not {{ carepulse.in_literals('source_file', carepulse.raw_source_files(source_name, table_name)) }}
        {%- if by_table %}
        and source_table = {{ carepulse.quoted_literal(table_name) }}
        {%- endif %}
{%- endmacro %}

{#- The files of one raw contract table (source_name.table_name) as the raw views name them in
    source_file: the file's name, prefixed by the folder (e.g. engagement_events/2026-01-03.parquet)
    when the table is a folder of files (macro duckdb__register_raw_sources). DuckDB only. -#}
{% macro raw_source_files(source_name, table_name) %}
    {% set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] %}
    {% set raw_dir = var('raw_dir') | replace("\\", "/") %}
    {% set stem = node.meta.get('raw_file', node.name) %}
    {% set files = carepulse.find_raw_files(raw_dir, stem) %}
    {% set in_folder = files | length > 1 or files[0] not in [
        raw_dir ~ '/' ~ stem ~ '.parquet', raw_dir ~ '/' ~ stem ~ '.csv'] %}
    {% set names = [] %}
    {% for path in files %}
        {% do names.append((stem ~ '/' if in_folder else '') ~ path.split('/') | last) %}
    {% endfor %}
    {{ return(names) }}
{% endmacro %}

{#- The table's raw files not in relation's source_file yet (all of them when relation is none). -#}
{% macro raw_files_not_in(source_name, table_name, relation, where='true') %}
    {% set files = carepulse.raw_source_files(source_name, table_name) %}
    {% if relation is none %}{{ return(files) }}{% endif %}
    {% set seen = run_query(
        'select distinct source_file from ' ~ relation ~ ' where ' ~ where ~ ' and source_file is not null'
    ).columns[0].values() | list %}
    {% set new_files = [] %}
    {% for name in files %}
        {% if name not in seen %}{% do new_files.append(name) %}{% endif %}
    {% endfor %}
    {{ return(new_files) }}
{% endmacro %}

{#- `column in ('a', 'b')` with literals (DuckDB then reads only those files of the raw view:
    its file filter prunes the others), or false for no value. -#}
{% macro in_literals(column, values) -%}
    {%- if not values -%}
        false
    {%- else -%}
        {%- set quoted = [] -%}
        {%- for value in values %}{% do quoted.append(carepulse.quoted_literal(value)) %}{% endfor -%}
        {{ column }} in ({{ quoted | join(', ') }})
    {%- endif -%}
{%- endmacro %}

{#- The audit table a recheck model compares with: the audit model's relation when it exists and
    this run will extend it (the audit is incremental here and no --full-refresh); else none
    (the audit is built in full, nothing to re-check). Read without ref(): the audit refs the
    recheck model, which must see the audit as the last build left it. -#}
{% macro previous_audit(audit_model) %}
    {% if not execute or carepulse.audit_incremental_config().get('materialized') != 'incremental' %}
        {{ return(none) }}
    {% endif %}
    {% if flags.FULL_REFRESH %}{{ return(none) }}{% endif %}
    {% set node = graph.nodes['model.' ~ project_name ~ '.' ~ audit_model] %}
    {% if node.config.get('full_refresh') %}{{ return(none) }}{% endif %}
    {% set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
    {% if relation is none or relation.is_view %}{{ return(none) }}{% endif %}
    {{ return(relation) }}
{% endmacro %}

{#- What the incremental audit reads, from its recheck model (at run time, when the audit's SQL
    is written): new, the raw files not audited yet, and read, those plus the files holding an
    accepted row of a re-checked key (its raw record must be kept if it is quarantined now). -#}
{% macro audit_read_plan(recheck) %}
    {% set plan = {'new': [], 'read': []} %}
    {% if not execute %}{{ return(plan) }}{% endif %}
    {% set found = run_query(
        'select source_file, bool_or(is_new_file) from ' ~ recheck
        ~ ' where (is_new_file or was_accepted) and source_file is not null group by source_file order by source_file'
    ) %}
    {% for row in found.rows %}
        {% do plan['read'].append(row[0]) %}
        {% if row[1] %}{% do plan['new'].append(row[0]) %}{% endif %}
    {% endfor %}
    {{ return(plan) }}
{% endmacro %}

{#- The row rule of a row already audited, from its stored verdict: the rules before after_as_of
    never change for a row; duplicate_key and orphan_reference are decided after the row rules
    (so the row passed them); an after_as_of row is checked again from after_as_of on, against
    the current as-of date (it may have reached the row). rules: the model's row rules. -#}
{% macro stored_row_rule(rules) -%}
    {%- set tail = [] %}
    {%- for rule in rules %}
        {%- if rule[0] == 'after_as_of' or tail %}{% do tail.append(rule) %}{% endif %}
    {%- endfor %}
    case
        when failed_rule in ('duplicate_key', 'orphan_reference') then null
        when failed_rule = 'after_as_of' then {{ carepulse.first_failed_rule(tail) }}
        else failed_rule
    end
{%- endmacro %}

{#- The body of an audit_<table>_recheck model: the rows of one raw table an incremental build
    audits again. Every row of a raw file not audited yet, and the already audited rows of every
    key whose verdict may change: a key such a new row repeats (its survivor is chosen again), a
    row whose after_as_of check the as-of date has now reached, a row whose references (e.g. its
    patient) are all accepted now while it was an orphan_reference, an accepted row one of
    whose references is accepted no longer, a row of a file gone from the raw folder (the audit
    deletes those rows first). Empty when the audit is built in full (first build,
    --full-refresh, engines without an incremental audit).
    staged: the staging relation; key_column: the table's key; activity_date: the row's date
    (an expression on the typed columns, as in after_as_of); references: {column: the audit
    relation of the referenced table}. -#}
{% macro audit_recheck(audit_model, source_name, table_name, staged, key_column, activity_date, references) %}
{%- set audit = carepulse.previous_audit(audit_model) %}
{%- set new_files = carepulse.raw_files_not_in(source_name, table_name, audit) if audit else [] %}
{%- set current_files = carepulse.raw_source_files(source_name, table_name) if audit else [] %}
{%- set columns = references.keys() | list | sort %}
with staged as (
    select * from {{ staged }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),
{%- for column in columns %}

accepted_{{ column }}s as (
    select {{ column }} from {{ references[column] }}
    where failed_rule is null
),
{%- endfor %}

new_rows as (
    select
        {{ key_column }} as record_key,
        {{- carepulse.select_columns(columns) }}
        {{ activity_date }} as activity_date,
        source_file
    from staged
    where {{ carepulse.in_literals('source_file', new_files) }}
),

{%- if audit %}

previous as (
    select
        record_key,
        {{- carepulse.select_columns(columns) }}
        {{ activity_date }} as activity_date,
        source_file,
        failed_rule
    from {{ audit }}
),

references_checked as (
    select
        previous.record_key,
        previous.failed_rule,
        {%- for column in columns %}
        accepted_{{ column }}s.{{ column }} is not null{{ ' and' if not loop.last }}
        {%- endfor %} as references_accepted
    from previous
    {%- for column in columns %}
    left join accepted_{{ column }}s
        on previous.{{ column }} = accepted_{{ column }}s.{{ column }}
    {%- endfor %}
    where previous.failed_rule is null or previous.failed_rule = 'orphan_reference'
),

rechecked_keys as (
    select record_key from new_rows
    union
    select previous.record_key
    from previous
    cross join analysis_date
    where previous.failed_rule = 'after_as_of' and previous.activity_date <= analysis_date.as_of_date
    union
    -- rows of files gone from the raw folder: their keys are checked again without them
    select record_key
    from previous
    where not {{ carepulse.in_literals('source_file', current_files) }}
    union
    select record_key
    from references_checked
    where
        (failed_rule = 'orphan_reference' and references_accepted)
        or (failed_rule is null and not references_accepted)
),

previous_rows as (
    select
        record_key,
        {{- carepulse.select_columns(columns) }}
        activity_date,
        source_file,
        false as is_new_file,
        failed_rule is null as was_accepted
    from previous
    where record_key in (select rechecked_keys.record_key from rechecked_keys)
),
{%- endif %}

final as (
    select
        record_key,
        {{- carepulse.select_columns(columns) }}
        activity_date,
        source_file,
        true as is_new_file,
        false as was_accepted
    from new_rows
    {%- if audit %}
    union all
    select
        record_key,
        {{- carepulse.select_columns(columns) }}
        activity_date,
        source_file,
        is_new_file,
        was_accepted
    from previous_rows
    {%- endif %}
)

select * from final
{%- endmacro %}

{#- The condition on the staged rows an incremental audit reads (plan: audit_read_plan): only
    the files in plan['read'], as literals so DuckDB's file filter prunes the others, and of
    them every row of a new file and the rows of the re-checked keys. -#}
{% macro incremental_audit_filter(recheck, plan, key_column) -%}
    {{ carepulse.in_literals('source_file', plan['read']) }}
    and (
        {{ carepulse.in_literals('source_file', plan['new']) }}
        or {{ key_column }} in (select recheck.record_key from {{ recheck }} as recheck)
    )
{%- endmacro %}

{#- The audited rows of the re-checked keys that an incremental audit does not read again (their
    file is not in plan['read']: they are quarantined, with their raw record stored), with their
    row rule from their verdict (stored_row_rule), to be added by name to the staged rows with
    their row rules. The model's CTE analysis_date must be in scope. -#}
{% macro audited_rows_kept(recheck, plan, columns, rules) -%}
    select
        {{- carepulse.select_columns(columns, 'audited.') }}
        audited.source_file,
        audited.raw_record,
        {{ carepulse.stored_row_rule(rules) }} as row_rule
    from {{ this }} as audited
    cross join analysis_date
    where
        audited.record_key in (select recheck.record_key from {{ recheck }} as recheck)
        and not {{ carepulse.in_literals('audited.source_file', plan['read']) }}
{%- endmacro %}
