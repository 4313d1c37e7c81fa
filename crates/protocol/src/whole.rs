//! Whole numbers also when written `737.0`: JSON does not tell the two apart, and clients (and
//! generated test data) send either. Anything with a fraction or out of range is refused.

use serde::{Deserialize, Deserializer};

fn whole<'de, D: Deserializer<'de>>(d: D, min: f64, max: f64) -> Result<f64, D::Error> {
    let f = f64::deserialize(d)?;
    if f.fract() == 0.0 && (min..=max).contains(&f) {
        Ok(f)
    } else {
        Err(serde::de::Error::custom(format!(
            "{f} is not a whole number from {min} to {max}"
        )))
    }
}

pub(crate) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(whole(d, 0.0, f64::from(u32::MAX))? as u32)
}

pub(crate) fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    // Above 2^53 a float no longer holds every whole number; nothing here needs more.
    Ok(whole(d, 0.0, 9_007_199_254_740_991.0)? as u64)
}

pub(crate) fn option_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "u64")] u64);
    Ok(Option::<W>::deserialize(d)?.map(|W(v)| v))
}

pub(crate) fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "u32")] u32);
    Ok(Option::<W>::deserialize(d)?.map(|W(v)| v))
}

pub(crate) fn vec_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "i64")] i64);
    Ok(Vec::<W>::deserialize(d)?
        .into_iter()
        .map(|W(v)| v)
        .collect())
}

fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    /// Integers as they are (all of i64); only a float must be whole (and within 2^53).
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        I(i64),
        F(f64),
    }
    match N::deserialize(d)? {
        N::I(i) => Ok(i),
        N::F(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0 => Ok(f as i64),
        N::F(f) => Err(serde::de::Error::custom(format!(
            "{f} is not a whole number within ±2^53"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::u64")]
        n: u64,
        #[serde(default, deserialize_with = "super::option_u32")]
        m: Option<u32>,
        #[serde(default, deserialize_with = "super::vec_i64")]
        ids: Vec<i64>,
    }

    #[test]
    fn whole_numbers_in_either_form_and_nothing_else() {
        let t: T =
            serde_json::from_str(r#"{"n": 8.0, "m": 3, "ids": [1, -2.0, 9223372036854775806]}"#)
                .unwrap();
        assert_eq!((t.n, t.m, t.ids), (8, Some(3), vec![1, -2, i64::MAX - 1]));
        let t: T = serde_json::from_str(r#"{"n": 8}"#).unwrap();
        assert_eq!(t.m, None);
        for bad in [
            r#"{"n": 8.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": 1, "m": -3}"#,
        ] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
    }
}
