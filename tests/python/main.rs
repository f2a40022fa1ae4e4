//! The Python distribution, the way a Python team adopts it: the wheel (maturin, from
//! `conformance/pyproject.toml`) built from this checkout, installed from the file into a
//! fresh virtualenv with pip (no registry upload), and then used only through what it
//! installed — the `mock-idp` and `conformance` commands on the venv's PATH, the pytest
//! plugin its entry point loads — by a real RP's own pytest tests (`tests/rps/python-authlib`:
//! login, a group change reaching the app, a deleted user losing access, an outage), a
//! failing test's report carrying the tenant's journal, and `pytest --conformance`.
//! Prints the time from a fresh venv to the first green test.

mod commands;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use commands::{root, run, text};

/// maturin, pinned (the wheel's build backend).
const MATURIN: &str = "maturin==1.16.0";
/// pytest, pinned (what the RP's tests run on).
const PYTEST: &str = "pytest==8.4.2";
/// A JSON Schema validator, pinned (checks a real report against the published schema).
const JSONSCHEMA: &str = "jsonschema==4.25.1";

fn venv(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    run(
        "a virtualenv",
        Command::new("python3").args(["-m", "venv"]).arg(dir),
    );
    dir.join("bin")
}

fn pip(bin: &Path, args: &[&str]) {
    run(
        "pip install",
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(args),
    );
}

/// Builds the wheel once (dev profile: the test build's compiled crates are reused); its path.
fn wheel(work: &Path) -> PathBuf {
    let tools = work.join("tools");
    if !tools.join("bin/maturin").exists() {
        pip(&venv(&tools), &[MATURIN]);
    }
    let dist = work.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    run(
        "maturin build",
        Command::new(tools.join("bin/maturin"))
            .args(["build", "--profile", "dev", "--quiet", "-o"])
            .arg(&dist)
            .current_dir(root().join("conformance")),
    );
    let built: Vec<PathBuf> = std::fs::read_dir(&dist)
        .expect("the wheel's folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(built.len(), 1, "one wheel: {built:?}");
    built[0].clone()
}

#[test]
fn the_wheel_installs_with_pip_and_a_real_rp_passes_its_own_pytest_tests_with_the_fixture() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-wheel");
    std::fs::create_dir_all(&work).unwrap();
    let whl = wheel(&work);
    let app = root().join("tests/rps/python-authlib");

    // A fresh venv, the wheel from its file, pytest and the RP's own pinned requirements.
    let fresh = Instant::now();
    let bin = venv(&work.join("venv"));
    let requirements = app.join("requirements.txt");
    pip(
        &bin,
        &[
            whl.to_str().unwrap(),
            PYTEST,
            "-r",
            requirements.to_str().unwrap(),
        ],
    );
    let installed = fresh.elapsed();
    for cmd in ["mock-idp", "conformance"] {
        let v = run(cmd, Command::new(bin.join(cmd)).arg("--version"));
        assert!(text(&v).contains(env!("CARGO_PKG_VERSION")), "{}", text(&v));
    }

    // The RP's own tests: the plugin from the entry point, the binaries from the venv.
    let pytest = |dir: &Path, args: &[&str]| {
        Command::new(bin.join("python"))
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .args(args)
            .current_dir(dir)
            .env_remove("SSO_HARNESS_BIN_DIR")
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("pytest runs")
    };
    let out = pytest(&app, &[]);
    let green = fresh.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 passed"), "{}", text(&out));
    println!(
        "from a fresh venv to the first green test: {:.1} s (pip install {:.1} s, the RP's 4 tests {:.1} s)",
        green.as_secs_f64(),
        installed.as_secs_f64(),
        (green - installed).as_secs_f64()
    );

    // A failing test: its report carries the tenant's journal, with the RP's requests.
    let failing = work.join("failing");
    std::fs::create_dir_all(&failing).unwrap();
    std::fs::write(
        failing.join("test_fails.py"),
        "import json, urllib.error, urllib.request\n\n\
         def test_fails(mock_idp):\n    \
             doc = json.load(urllib.request.urlopen(mock_idp.discovery_url))\n    \
             form = b\"grant_type=client_credentials&client_id=demo-rp&client_secret=wrong\"\n    \
             try:\n        \
                 urllib.request.urlopen(doc[\"token_endpoint\"], data=form)\n    \
             except urllib.error.HTTPError:\n        \
                 pass\n    \
             assert mock_idp.admin.user(\"alice\")[\"groups\"] == [\"nobody\"]\n",
    )
    .unwrap();
    // (on shared keys: the plugin's option reaches the server, and the tenant still works)
    let out = pytest(&failing, &["--mock-idp-keys", "shared"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("mock-idp journal"), "{t}");
    assert!(
        t.contains("POST token") && t.contains("invalid_client"),
        "the journal's lines: {t}"
    );

    // The suite as pytest tests: a pass and a true fail (Authlib uses a discovery document
    // that names another issuer: its verdicts.md). rp.toml launches the app from the venv
    // of its install.sh.
    run(
        "the RP's install.sh",
        Command::new("bash").arg(app.join("install.sh")),
    );
    let toml = app.join("rp.toml");
    let reports = work.join("reports");
    let _ = std::fs::remove_dir_all(&reports);
    let out = pytest(
        &failing,
        &[
            "--conformance",
            toml.to_str().unwrap(),
            "--conformance-report",
            reports.to_str().unwrap(),
            "--conformance-args",
            "--only login.code-flow,login.discovery-issuer-mismatch --mode strict",
            "-k",
            "not test_fails",
            "-rA",
        ],
    );
    let t = text(&out);
    assert!(
        t.contains("PASSED") && t.contains("login.code-flow[strict]"),
        "{t}"
    );
    assert!(
        t.contains("FAILED") && t.contains("login.discovery-issuer-mismatch[strict]"),
        "{t}"
    );
    assert!(t.contains("1 failed, 1 passed"), "{t}");

    // The report it wrote is what the published schema says (JSON Schema 2020-12, checked
    // by the `jsonschema` package, not by this project's code).
    pip(&bin, &[JSONSCHEMA]);
    let check = "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\n";
    run(
        "report.json against conformance/report.schema.json",
        Command::new(bin.join("python"))
            .args(["-c", check])
            .arg(root().join("conformance/report.schema.json"))
            .arg(reports.join("report.json")),
    );
}
