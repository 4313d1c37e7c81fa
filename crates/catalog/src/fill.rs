//! Fills gaps in partial catalog entries from the same model at other providers.
//!
//! models.dev lists some models at a provider with prices only (e.g. `openai/gpt-5`), the
//! rest living in a shared base entry that the compact snapshot does not carry. Falling back
//! to the 8k unknown-model defaults for a flagship model would be wrong, so a partial entry
//! borrows each missing field from a complete entry of the same model id elsewhere (or, failing
//! that, the same last `/` segment: `openai/gpt-5` ↔ `gpt-5`). Among several donors the one
//! with the smallest context window wins, so borrowed limits err on the safe side. Prices are
//! never borrowed: they differ between providers.

use std::collections::HashMap;

use super::data::{CatalogData, ModelData};

/// A complete entry that can lend fields.
#[derive(Clone, Copy)]
struct Donor<'a> {
    provider: &'a str,
    id: &'a str,
    context: u64,
    model: &'a ModelData,
}

/// Fills missing non-price fields of partial entries in place and records the donor in
/// `inferred_from`. Entries with their own limits are left untouched.
pub(crate) fn fill_gaps(data: &mut CatalogData) {
    let mut by_id: HashMap<&str, Vec<Donor>> = HashMap::new();
    let mut by_tail: HashMap<&str, Vec<Donor>> = HashMap::new();
    for (pid, provider) in &data.providers {
        for (mid, model) in &provider.models {
            let Some(context) = model.limit.and_then(|l| l.context) else {
                continue;
            };
            let donor = Donor {
                provider: pid,
                id: mid,
                context,
                model,
            };
            by_id.entry(mid.as_str()).or_default().push(donor);
            by_tail.entry(tail(mid)).or_default().push(donor);
        }
    }
    let pick = |donors: Option<&Vec<Donor>>| -> Option<(String, ModelData)> {
        donors?
            .iter()
            .min_by_key(|d| (d.context, d.provider, d.id))
            .map(|d| (format!("{}/{}", d.provider, d.id), d.model.clone()))
    };
    let mut fills: Vec<(String, String, String, ModelData)> = Vec::new();
    for (pid, provider) in &data.providers {
        for (mid, model) in &provider.models {
            if model.limit.and_then(|l| l.context).is_some() {
                continue;
            }
            let donor = pick(by_id.get(mid.as_str())).or_else(|| pick(by_tail.get(tail(mid))));
            if let Some((key, donor)) = donor {
                fills.push((pid.clone(), mid.clone(), key, donor));
            }
        }
    }
    for (pid, mid, key, donor) in fills {
        if let Some(model) = data
            .providers
            .get_mut(&pid)
            .and_then(|p| p.models.get_mut(&mid))
        {
            borrow(model, donor);
            model.inferred_from = Some(key);
        }
    }
}

fn tail(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Copies every field `model` lacks (except prices) from `donor`.
fn borrow(model: &mut ModelData, donor: ModelData) {
    macro_rules! take {
        ($($field:ident),*) => { $( if model.$field.is_none() { model.$field = donor.$field; } )* };
    }
    take!(
        name,
        family,
        attachment,
        reasoning,
        tool_call,
        temperature,
        structured_output,
        open_weights,
        release_date,
        knowledge,
        limit,
        modalities
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CostData, LimitData, ProviderData};

    fn full(context: u64, attachment: bool) -> ModelData {
        ModelData {
            name: Some("Full".into()),
            attachment: Some(attachment),
            limit: Some(LimitData {
                context: Some(context),
                output: Some(1_000),
                input: None,
            }),
            cost: Some(CostData {
                input: Some(9.0),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn catalog(entries: &[(&str, &str, ModelData)]) -> CatalogData {
        let mut data = CatalogData::default();
        for (pid, mid, m) in entries {
            data.providers
                .entry((*pid).to_string())
                .or_insert_with(ProviderData::default)
                .models
                .insert((*mid).to_string(), m.clone());
        }
        data
    }

    fn partial() -> ModelData {
        ModelData {
            cost: Some(CostData {
                input: Some(1.25),
                ..Default::default()
            }),
            attachment: Some(false),
            ..Default::default()
        }
    }

    #[test]
    fn partial_entry_borrows_smallest_context_but_keeps_its_own_fields() {
        let mut data = catalog(&[
            ("a", "gpt-x", full(400_000, true)),
            ("b", "gpt-x", full(272_000, true)),
            ("openai", "gpt-x", partial()),
        ]);
        fill_gaps(&mut data);
        let m = &data.providers["openai"].models["gpt-x"];
        assert_eq!(m.limit.and_then(|l| l.context), Some(272_000));
        assert_eq!(m.inferred_from.as_deref(), Some("b/gpt-x"));
        assert_eq!(m.name.as_deref(), Some("Full"));
        // Own values and prices are never replaced.
        assert_eq!(m.attachment, Some(false));
        assert_eq!(m.cost.and_then(|c| c.input), Some(1.25));
        // Donors are untouched.
        assert!(data.providers["a"].models["gpt-x"].inferred_from.is_none());
    }

    #[test]
    fn falls_back_to_the_last_path_segment() {
        let mut data = catalog(&[
            ("a", "gpt-x", full(128_000, true)),
            ("router", "openai/gpt-x", partial()),
        ]);
        fill_gaps(&mut data);
        let m = &data.providers["router"].models["openai/gpt-x"];
        assert_eq!(m.inferred_from.as_deref(), Some("a/gpt-x"));
        assert_eq!(m.limit.and_then(|l| l.context), Some(128_000));
    }

    #[test]
    fn without_a_donor_the_entry_stays_partial() {
        let mut data = catalog(&[
            ("a", "other", full(128_000, true)),
            ("b", "lonely", partial()),
        ]);
        fill_gaps(&mut data);
        let m = &data.providers["b"].models["lonely"];
        assert!(m.limit.is_none() && m.inferred_from.is_none());
    }
}
