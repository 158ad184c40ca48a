//! Reading text where the scenario requires it: a YAML null (`~`,
//! `null` or nothing after the key) is refused there, instead of being
//! read as the text `~` or `null`.
//!
//! serde_yaml hands a plain scalar to a string field as its text, so
//! without this `title: ~` would be the title `~`, and a `--set` value
//! left empty, which the tree records as null and writes out as `null`,
//! would be the title `null`. A quoted `'~'` is still the text `~`.

use serde::de::{Deserialize, Deserializer, Error};

/// What a null where text is required is told.
const NOT_NULL: &str = "expected a string, found null (`~`, `null` or no value); \
                        quote it to mean that text, e.g. '~'";

/// Tells whether an error message is the refusal of a null.
pub fn is_null_refusal(message: &str) -> bool {
    message.contains(NOT_NULL)
}

/// A string that may not be null.
pub(super) struct Text(pub(super) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => Ok(Text(text)),
            None => Err(D::Error::custom(NOT_NULL)),
        }
    }
}

/// Reads a required string.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Text::deserialize(deserializer).map(|text| text.0)
}

/// Reads a list of strings, none of them null.
pub fn texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items = Vec::<Text>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|text| text.0).collect())
}

/// Reads a pair of strings, neither null.
pub fn text_pair<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[String; 2], D::Error> {
    let [first, second] = <[Text; 2]>::deserialize(deserializer)?;
    Ok([first.0, second.0])
}

/// Reads a list of lists of strings, none of them null.
pub fn text_groups<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Vec<String>>, D::Error> {
    let groups = Vec::<Vec<Text>>::deserialize(deserializer)?;
    let unwrap = |group: Vec<Text>| group.into_iter().map(|text| text.0).collect();
    Ok(groups.into_iter().map(unwrap).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "text")]
        name: String,
    }

    fn read(yaml: &str) -> Result<String, String> {
        serde_yaml::from_str::<Holder>(yaml)
            .map(|holder| holder.name)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn plain_nulls_are_refused_and_quoted_ones_are_text() {
        for null in ["name: ~", "name: null", "name: Null", "name: NULL", "name:"] {
            let error = read(null).unwrap_err();
            assert!(is_null_refusal(&error), "{null}: {error}");
        }
        assert_eq!(read("name: '~'"), Ok("~".to_string()));
        assert_eq!(read("name: \"null\""), Ok("null".to_string()));
        assert_eq!(read("name: ''"), Ok(String::new()));
        assert_eq!(read("name: nullable"), Ok("nullable".to_string()));
        assert_eq!(read("name: 1.10"), Ok("1.10".to_string()));
    }
}
