//! The Markdown escaper of the `.md` templates (askama applies it to every printed value, as it applies
//! HTML escaping to `.html` templates): characters that start inline markup are backslash-escaped, `<` and
//! `&` become entities, and line breaks fold into spaces, so a name cannot add a table row, a link, code
//! or HTML.

use std::fmt::{self, Write};

/// Escapes text for Markdown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

impl askama::filters::Escaper for Markdown {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        for c in string.chars() {
            self.write_escaped_char(&mut dest, c)?;
        }
        Ok(())
    }

    fn write_escaped_char<W: Write>(&self, mut dest: W, c: char) -> fmt::Result {
        match c {
            // Printed values never start a line here (cells and headings are prefixed), so only inline
            // markup matters.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                dest.write_char('\\')?;
                dest.write_char(c)
            }
            '<' => dest.write_str("&lt;"),
            '&' => dest.write_str("&amp;"),
            '\n' | '\r' => dest.write_char(' '),
            _ => dest.write_char(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    #[test]
    fn markup_in_names_is_made_literal() {
        let mut out = String::new();
        Markdown
            .write_escaped_str(&mut out, "a | [x](javascript:y) <b>*\n")
            .expect("write");
        assert_eq!(out, "a \\| \\[x\\](javascript:y) &lt;b>\\* ");
    }
}
