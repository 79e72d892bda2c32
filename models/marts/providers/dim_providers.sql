{#- One row per accepted provider. Only what describes the practice (specialty and
    location); the name stays in the source even though NPI registries publish it. -#}
with providers as (
    select * from {{ ref('int_providers_accepted') }}
),

final as (
    select
        provider_id,
        specialty,
        state,
        city
    from providers
)

select * from final
