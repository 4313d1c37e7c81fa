//! JSON read strictly: an object that names the same key twice is refused instead of letting the
//! last value win. Two readers of one text must never see different values (a proxy or a log
//! keeping the first `decision`, Pryx acting on the last), so approval answers, request bodies,
//! WebSocket requests and the arguments of a model's tool call are all read through here.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses `text` as JSON, refusing duplicate keys in any object at any depth.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// [`parse`] for bytes (a request body).
pub fn parse_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads a typed value from `text` with duplicate keys refused.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(parse(text)?)
}

/// Deserializes a [`Value`] like serde_json does, but refuses a repeated object key.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{key}` in a JSON object: each key may appear once \
                     (a repeated key is refused, not read as its last value); send it once"
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":1,"b":[true,null,"x",{"c":-2.5}],"d":{}}"#,
            "[]",
            "\"s\"",
            "18446744073709551615",
            "-9223372036854775808",
            "1e300",
        ] {
            let ours = parse(text).unwrap_or(Value::Null);
            let theirs: Value = serde_json::from_str(text).unwrap_or(json!("unparsed"));
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for text in [
            r#"{"decision":"deny","decision":"approve"}"#,
            r#"{"a":{"x":1,"x":1}}"#,
            r#"[{"k":1},{"k":2,"k":3}]"#,
            r#"{"command":"ls","cwd":".","command":"rm -rf ~"}"#,
        ] {
            let err = parse(text).map(|_| ()).unwrap_err().to_string();
            assert!(err.contains("duplicate key"), "{text}: {err}");
            assert!(parse_slice(text.as_bytes()).is_err(), "{text}");
        }
        let err = parse(r#"{"a":1,"a":2}"#).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("`a`"), "{err}");
        assert!(err.to_string().contains("column"), "{err}");
    }

    #[test]
    fn equal_keys_in_different_objects_are_fine() {
        assert_eq!(
            parse(r#"{"a":{"a":1},"b":{"a":2}}"#).unwrap_or(Value::Null),
            json!({"a":{"a":1},"b":{"a":2}})
        );
    }

    #[test]
    fn trailing_text_and_syntax_errors_are_errors() {
        assert!(parse(r#"{"a":1} x"#).is_err());
        assert!(parse(r#"{"a":1"#).is_err());
        assert!(from_str::<Vec<u8>>("[1,2]").is_ok());
    }
}
