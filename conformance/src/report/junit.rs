//! JUnit XML: one `<testsuite>` per sync mode, one `<testcase>` per scenario; fail →
//! `<failure>`, error → `<error>`, skip → `<skipped>`; evidence in `<system-out>`.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::Report;
use crate::verdict::Outcome;

/// The JUnit XML text.
pub fn junit(report: &Report) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write(&mut w, report);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn write(w: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let s = &report.summary;
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "conformance"));
    suites.push_attribute(("tests", s.total.to_string().as_str()));
    suites.push_attribute(("failures", s.fail.to_string().as_str()));
    suites.push_attribute(("errors", s.error.to_string().as_str()));
    suites.push_attribute(("time", secs(report.wall_time_ms).as_str()));
    w.write_event(Event::Start(suites))?;
    for run in &report.runs {
        let count = |o: Outcome| run.results.iter().filter(|r| r.verdict == o).count();
        let name = match &run.idp_profile {
            Some(p) => format!("conformance.{p}.{}", run.sync_mode),
            None => format!("conformance.{}", run.sync_mode),
        };
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", name.as_str()));
        suite.push_attribute(("tests", run.results.len().to_string().as_str()));
        suite.push_attribute(("failures", count(Outcome::Fail).to_string().as_str()));
        suite.push_attribute(("errors", count(Outcome::Error).to_string().as_str()));
        suite.push_attribute(("skipped", count(Outcome::Skip).to_string().as_str()));
        w.write_event(Event::Start(suite))?;
        for r in &run.results {
            let mut case = BytesStart::new("testcase");
            let class = format!("{name}.{}", r.category.as_str());
            case.push_attribute(("classname", class.as_str()));
            case.push_attribute(("name", r.id.as_str()));
            case.push_attribute(("time", secs(r.duration_ms).as_str()));
            w.write_event(Event::Start(case))?;
            let tag = match (r.verdict, r.expected_failure) {
                (Outcome::Fail, false) => Some("failure"),
                (Outcome::Error, false) => Some("error"),
                (Outcome::Skip, _) => Some("skipped"),
                _ => None,
            };
            if let Some(tag) = tag {
                let mut el = BytesStart::new(tag);
                el.push_attribute(("message", r.reason.as_str()));
                w.write_event(Event::Empty(el))?;
            }
            let mut out = format!(
                "{}: {}\nrequirement: {}\n",
                r.verdict.label(),
                r.reason,
                r.requirement
            );
            if r.expected_failure {
                out.push_str("listed in the expected failures\n");
            }
            out.push_str(&serde_json::to_string_pretty(&r.evidence).unwrap_or_default());
            w.write_event(Event::Start(BytesStart::new("system-out")))?;
            w.write_event(Event::Text(BytesText::new(&out)))?;
            w.write_event(Event::End(BytesEnd::new("system-out")))?;
            w.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}
