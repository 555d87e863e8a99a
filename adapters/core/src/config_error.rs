//! Config errors that are safe to print. A TOML error echoes the offending value (and, from
//! source text, the whole line): for `channel_secret = 12345` that is the secret. Operators
//! get where the mistake is and what was expected, never the value.

/// Describes a TOML deserialisation error without the value it choked on. `source`: the
/// text it was parsed from, if any, to report the line and column.
pub fn describe_toml_error(error: &toml::de::Error, source: Option<&str>) -> String {
    let message = error.message();
    let redacted = ["invalid type: ", "invalid value: ", "invalid length "]
        .iter()
        .find(|prefix| message.starts_with(*prefix))
        .map(|prefix| {
            let expected = message
                .split_once(", expected ")
                .map(|(_, e)| e)
                .unwrap_or("another value");
            let what = prefix.trim_end_matches(": ").trim_end();
            format!("{what} (value withheld), expected {expected}")
        })
        .unwrap_or_else(|| message.to_owned());
    // Errors from a table (no source text) name the key on a last line: "in `key`".
    let key = error
        .to_string()
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("in ").map(str::to_owned));
    let at = match (source, error.span()) {
        (Some(text), Some(span)) => {
            let before = text.get(..span.start).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Some(format!("line {line}, column {column}"))
        }
        _ => None,
    };
    match (at, key) {
        (Some(at), _) => format!("{at}: {redacted}"),
        (None, Some(key)) => format!("{redacted} (in {key})"),
        (None, None) => redacted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Secretive {
        secret: String,
        count: u64,
    }

    #[test]
    fn a_mistyped_secret_is_located_but_never_echoed() {
        let text = "count = 1\nsecret = 918273645\n";
        let error = toml::from_str::<Secretive>(text).unwrap_err();
        let described = describe_toml_error(&error, Some(text));
        assert_eq!(
            described,
            "line 2, column 10: invalid type (value withheld), expected a string"
        );

        let table: toml::Table = toml::from_str(text).unwrap();
        let error = table.try_into::<Secretive>().unwrap_err();
        let described = describe_toml_error(&error, None);
        assert!(!described.contains("918273645"), "{described}");
        assert!(described.contains("secret"), "{described}");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let error =
            toml::from_str::<Secretive>("secret = \"s\"\ncount = 1\nbogus = 2\n").unwrap_err();
        assert!(describe_toml_error(&error, None).contains("unknown field `bogus`"));
    }
}
