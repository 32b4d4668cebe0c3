//! Just enough JSON writing for the trace: objects built field by field, strings escaped.

use std::fmt::{Display, Write as _};

/// A JSON object under construction.
#[derive(Debug, Default)]
pub(super) struct Object {
    text: String,
}

impl Object {
    pub(super) fn new() -> Object {
        Object::default()
    }

    fn key(&mut self, key: &str) {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        string(&mut self.text, key);
        self.text.push(':');
    }

    /// A string field.
    pub(super) fn str(mut self, key: &str, value: &str) -> Object {
        self.key(key);
        string(&mut self.text, value);
        self
    }

    /// A number (or `true`/`false`) field: anything whose `Display` is valid JSON.
    pub(super) fn num(mut self, key: &str, value: impl Display) -> Object {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    /// A field holding an object.
    pub(super) fn obj(mut self, key: &str, value: Object) -> Object {
        self.key(key);
        self.text.push_str(&value.finish());
        self
    }

    /// A field holding an array of objects.
    pub(super) fn list(mut self, key: &str, values: Vec<Object>) -> Object {
        self.key(key);
        self.text.push('[');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(&value.finish());
        }
        self.text.push(']');
        self
    }

    /// The object's text.
    pub(super) fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

/// Appends `s` to `out` as a JSON string.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::Object;

    #[test]
    fn objects_and_escapes() {
        let inner = Object::new().num("n", 3);
        let text = Object::new()
            .str("name", "a \"quoted\"\\ name\n\u{1}")
            .num("ok", true)
            .obj("args", inner)
            .obj("empty", Object::new())
            .list("list", vec![Object::new().num("a", 1), Object::new()])
            .finish();
        assert_eq!(
            text,
            r#"{"name":"a \"quoted\"\\ name\n\u0001","ok":true,"args":{"n":3},"empty":{},"list":[{"a":1},{}]}"#
        );
    }
}
