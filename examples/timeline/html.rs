//! A self-contained HTML page around timeline SVGs: no scripts, no external fonts or styles, the
//! SVGs inline. Figures of one section stand side by side when the window is wide enough.

use std::fmt::Write;

use crate::svg::escape;

/// A heading, some prose, and figures to compare.
#[derive(Debug)]
pub struct Section {
    pub heading: String,
    /// Plain text; blank lines separate paragraphs.
    pub text: String,
    /// SVG documents.
    pub figures: Vec<String>,
}

/// The page.
pub fn page(title: &str, intro: &str, sections: &[Section]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 1.5em; color: #222; line-height: 1.45; }}\n\
         p {{ max-width: 60em; }}\n\
         .figures {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); \
         gap: 1em; }}\n\
         .figures svg {{ width: 100%; height: auto; border: 1px solid #ddd; }}\n\
         </style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    paragraphs(&mut html, intro);
    for section in sections {
        let _ = writeln!(html, "<section>\n<h2>{}</h2>", escape(&section.heading));
        paragraphs(&mut html, &section.text);
        html.push_str("<div class=\"figures\">\n");
        for figure in &section.figures {
            html.push_str("<figure style=\"margin:0\">\n");
            html.push_str(figure);
            html.push_str("</figure>\n");
        }
        html.push_str("</div>\n</section>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn paragraphs(html: &mut String, text: &str) {
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let _ = writeln!(html, "<p>{}</p>", escape(paragraph.trim()));
    }
}
