//! Profiles for people: the list of built-in profiles, and one profile as a table like the
//! Entra portal's attribute-mapping page.

use super::model::Profile;

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn render_rows(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len() - 1;
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.clone()
                } else {
                    pad(c, widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.push(line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

/// Wraps text at `width` columns, each line indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}

/// One profile: what Entra provisions, the notes, and the mapping as the portal shows it
/// (target attribute, type, matching, supported for filtering, required by the app).
pub fn table(p: &Profile) -> String {
    let mut out = format!("{} ({})\n", p.app, p.file);
    let objects: Vec<&str> = p.objects.iter().map(|o| o.as_str()).collect();
    out.push_str(&format!("Objects:  {}", objects.join(", ")));
    if let Some(g) = &p.groups_as {
        out.push_str(&format!(" (groups become {g})"));
    }
    out.push('\n');
    out.push_str(&format!("Matching: {}\n", p.matching));
    if !p.notes.is_empty() {
        out.push_str(&format!("Notes:\n{}\n", wrap(&p.notes, 90, "  ")));
    }
    out.push('\n');
    let check = |b: bool| if b { "✓".to_string() } else { String::new() };
    let rows: Vec<Vec<String>> = p
        .attributes
        .iter()
        .map(|a| {
            vec![
                a.path.clone(),
                a.kind.to_string(),
                check(a.path == p.matching),
                check(a.filterable),
                check(a.required),
            ]
        })
        .collect();
    out.push_str(&render_rows(
        &[
            "Target attribute",
            "Type",
            "Matching",
            "Filterable",
            "Required",
        ],
        &rows,
    ));
    out.push('\n');
    out
}

/// The built-in profiles, one line each.
pub fn list(profiles: &[Profile]) -> String {
    let rows: Vec<Vec<String>> = profiles
        .iter()
        .map(|p| {
            let objects: Vec<&str> = p.objects.iter().map(|o| o.as_str()).collect();
            vec![
                p.name.clone(),
                p.app.clone(),
                objects.join(", "),
                p.attributes.len().to_string(),
                p.matching.clone(),
            ]
        })
        .collect();
    let mut out = render_rows(
        &["Profile", "App", "Objects", "Attributes", "Matching"],
        &rows,
    );
    out.push_str(
        "\n\n`scimcheck profiles show NAME` prints a mapping; `scimcheck run --profile NAME|FILE` checks one.\n",
    );
    out
}
