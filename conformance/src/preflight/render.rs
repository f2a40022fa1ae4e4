//! The readiness report as text for the terminal, Markdown, JSON and an HTML page.

use std::fmt::Write as _;

use super::{Readiness, Status};
use crate::report::page::esc;

/// The verdict line.
fn verdict(r: &Readiness) -> String {
    let count = |s: Status| r.checks.iter().filter(|c| c.status == s).count();
    let (p, w, u) = (
        count(Status::Problem),
        count(Status::Warn),
        count(Status::Unknown),
    );
    if r.ready {
        format!(
            "READY: no problem ({w} warning(s), {u} unknown) in {} checks",
            r.checks.len()
        )
    } else {
        format!(
            "NOT READY: {p} problem(s), {w} warning(s), {u} unknown, in {} checks",
            r.checks.len()
        )
    }
}

fn heading(r: &Readiness) -> String {
    format!(
        "Preflight of {} for client {}{}",
        r.issuer,
        r.client_id,
        r.provider
            .map(|p| format!(" (provider: {p})"))
            .unwrap_or_default()
    )
}

impl super::Mapping {
    /// Each group and the permissions it grants, as shown.
    fn rows(&self) -> impl Iterator<Item = (&String, String)> {
        self.groups.iter().map(|g| {
            let perms = self
                .mapped
                .get(g)
                .map(|p| p.join(", "))
                .unwrap_or_else(|| "(not in the group map)".into());
            (g, perms)
        })
    }

    /// The permissions, or "none".
    fn permissions_text(&self) -> String {
        if self.permissions.is_empty() {
            "none".to_owned()
        } else {
            self.permissions.join(", ")
        }
    }
}

/// For the terminal.
pub fn terminal(r: &Readiness) -> String {
    let mut out = format!("{}\nredirect URI: {}\n", heading(r), r.redirect_uri);
    let mut step = "";
    for c in &r.checks {
        if c.step != step {
            step = c.step;
            let _ = writeln!(out, "\n{step}");
        }
        let _ = writeln!(out, "  {:<8} {:<24} {}", c.status.as_str(), c.id, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "  {:<8} {:<24} fix: {fix}", "", "");
        }
    }
    if let Some(m) = &r.mapping {
        let _ = writeln!(
            out,
            "\nmapping: groups {:?} → permissions {:?}",
            m.groups, m.permissions
        );
    }
    if let Some(p) = &r.profile_written {
        let _ = writeln!(out, "\nprofile written: {p}");
    }
    let _ = writeln!(out, "\n{}", verdict(r));
    out
}

/// As Markdown.
pub fn markdown(r: &Readiness) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "# {}\n\nRedirect URI: `{}`\n\n**{}**\n\n",
        heading(r),
        r.redirect_uri,
        verdict(r)
    );
    out.push_str("| step | check | status | what was seen | fix |\n|---|---|---|---|---|\n");
    for c in &r.checks {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            c.step,
            c.id,
            c.status.as_str(),
            cell(&c.detail),
            cell(c.fix.as_deref().unwrap_or(""))
        );
    }
    if let Some(m) = &r.mapping {
        out.push_str("\n## The user's permissions\n\n| group | permissions |\n|---|---|\n");
        for (g, perms) in m.rows() {
            let _ = writeln!(out, "| {} | {} |", cell(g), cell(&perms));
        }
        let _ = writeln!(out, "\nPermissions: {}", m.permissions_text());
    }
    if !r.tokens.is_empty() {
        out.push_str("\n## Tokens (signatures not shown)\n");
        for t in &r.tokens {
            let _ = writeln!(out, "\n### {} ({} characters)\n", t.name, t.chars);
            if let Some(h) = &t.header {
                let _ = writeln!(
                    out,
                    "```json\n{}\n```",
                    serde_json::to_string_pretty(h).unwrap_or_default()
                );
            }
            if let Some(c) = &t.claims {
                let _ = writeln!(
                    out,
                    "```json\n{}\n```",
                    serde_json::to_string_pretty(c).unwrap_or_default()
                );
            }
            if let Some(n) = &t.note {
                let _ = writeln!(out, "_{n}_");
            }
        }
    }
    out
}

/// As JSON.
pub fn json(r: &Readiness) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

/// As a self-contained HTML page (no script, no external resource).
pub fn html(r: &Readiness) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>{}</h1><p>Redirect URI: <code>{}</code></p><p class=\"verdict {}\" role=\"status\">{}</p></header><main>",
        esc(&heading(r)),
        esc(&r.redirect_uri),
        if r.ready { "ok" } else { "problem" },
        esc(&verdict(r))
    );
    let problems: Vec<&super::Check> = r
        .checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .collect();
    if !problems.is_empty() {
        body.push_str(
            "<section aria-labelledby=\"fix\"><h2 id=\"fix\">To fix before go-live</h2><ol>",
        );
        for c in problems {
            let _ = write!(
                body,
                "<li><p><code>{}</code>: {}</p>{}</li>",
                esc(c.id),
                esc(&c.detail),
                c.fix
                    .as_deref()
                    .map(|f| format!("<p><strong>Fix:</strong> {}</p>", esc(f)))
                    .unwrap_or_default()
            );
        }
        body.push_str("</ol></section>");
    }
    body.push_str("<section aria-labelledby=\"checks\"><h2 id=\"checks\">Checks</h2><table><caption>Every check, in the order made</caption><thead><tr><th scope=\"col\">Step</th><th scope=\"col\">Check</th><th scope=\"col\">Status</th><th scope=\"col\">What was seen</th><th scope=\"col\">Fix</th></tr></thead><tbody>");
    for c in &r.checks {
        let _ = write!(
            body,
            "<tr class=\"{s}\"><td>{}</td><td><code>{}</code></td><td><span class=\"badge {s}\">{s}</span></td><td>{}</td><td>{}</td></tr>",
            esc(c.step),
            esc(c.id),
            esc(&c.detail),
            esc(c.fix.as_deref().unwrap_or("")),
            s = c.status.as_str(),
        );
    }
    body.push_str("</tbody></table></section>");
    if let Some(m) = &r.mapping {
        body.push_str("<section aria-labelledby=\"mapping\"><h2 id=\"mapping\">The user's permissions</h2><table><caption>The user's groups through the app's group map</caption><thead><tr><th scope=\"col\">Group</th><th scope=\"col\">Permissions</th></tr></thead><tbody>");
        for (g, perms) in m.rows() {
            let _ = write!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(g), esc(&perms));
        }
        let _ = write!(
            body,
            "</tbody></table><p>Permissions: <strong>{}</strong></p></section>",
            esc(&m.permissions_text())
        );
    }
    if !r.tokens.is_empty() {
        body.push_str("<section aria-labelledby=\"tokens\"><h2 id=\"tokens\">Tokens</h2><p>Decoded; signatures and nonces are not shown.</p>");
        for t in &r.tokens {
            let _ = write!(
                body,
                "<details open><summary>{} ({} characters)</summary>",
                esc(&t.name),
                t.chars
            );
            for part in [&t.header, &t.claims].into_iter().flatten() {
                let _ = write!(
                    body,
                    "<pre>{}</pre>",
                    esc(&serde_json::to_string_pretty(part).unwrap_or_default())
                );
            }
            if let Some(n) = &t.note {
                let _ = write!(body, "<p><em>{}</em></p>", esc(n));
            }
            body.push_str("</details>");
        }
        body.push_str("</section>");
    }
    body.push_str("</main>");
    crate::report::page(&heading(r), &body)
}
