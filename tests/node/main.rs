//! The npm packages, the way a Node team adopts them: `sso-harness` and this platform's
//! `@sso-harness/<platform>-<arch>` packed from this checkout (`conformance/node/pack.sh
//! dev`), installed from the tarballs into a fresh copy of a real RP's project
//! (`tests/rps/node-openid-client`, no registry upload), and used only through what they
//! installed: the commands in `node_modules/.bin`, and the helper by the RP's own
//! `node:test` tests (login, a group change reaching the app, a deleted user losing access,
//! an outage), then one test each under vitest (the helper imported as an ES module) and
//! jest (required as CommonJS), pinned as the project's dev dependencies. Prints the time
//! from the fresh project to the first green test.

#[path = "../python/commands.rs"]
mod commands;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use commands::{root, run, text};

#[test]
fn the_npm_packages_install_from_their_tarballs_and_a_real_rp_passes_its_own_node_tests() {
    let packed = run(
        "pack.sh",
        Command::new("bash")
            .arg(root().join("conformance/node/pack.sh"))
            .arg("dev"),
    );
    let tarballs: Vec<PathBuf> = String::from_utf8_lossy(&packed.stdout)
        .lines()
        .map(|l| root().join(l.trim()))
        .collect();
    assert_eq!(tarballs.len(), 2, "{}", text(&packed));

    // A fresh copy of the RP's project: its code, its pinned dependencies, its tests.
    let app = root().join("tests/rps/node-openid-client");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node-app");
    let _ = std::fs::remove_dir_all(&work);
    for d in ["test", "vitest", "jest"] {
        std::fs::create_dir_all(work.join(d)).unwrap();
    }
    for f in [
        "app.js",
        "harness.js",
        "package.json",
        "package-lock.json",
        "test/app.test.js",
        "vitest/app.test.mjs",
        "jest/app.test.js",
    ] {
        std::fs::copy(app.join(f), work.join(f)).unwrap();
    }
    let fresh = Instant::now();
    run(
        "npm install",
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .args(&tarballs)
            .current_dir(&work),
    );
    let installed = fresh.elapsed();
    for cmd in ["mock-idp", "conformance"] {
        let v = run(
            cmd,
            Command::new(work.join("node_modules/.bin").join(cmd)).arg("--version"),
        );
        assert!(text(&v).contains(env!("CARGO_PKG_VERSION")), "{}", text(&v));
    }
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(&work)
        .env_remove("SSO_HARNESS_BIN_DIR")
        .output()
        .expect("node --test runs");
    let green = fresh.elapsed();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("# pass 4") && t.contains("# fail 0"), "{t}");
    println!(
        "from a fresh project to the first green test: {:.1} s (npm install {:.1} s, the RP's 4 tests {:.1} s)",
        green.as_secs_f64(),
        installed.as_secs_f64(),
        (green - installed).as_secs_f64()
    );

    // The same helper from the two other runners a Node team uses, each through its own
    // command line as `npm run` would start it (one test each; exit status and summary).
    for (runner, args, passed) in [
        ("vitest", &["run", "vitest/"][..], "Tests  1 passed (1)"),
        (
            "jest",
            &["--ci", "jest/"][..],
            "Tests:       1 passed, 1 total",
        ),
    ] {
        let out = Command::new(work.join("node_modules/.bin").join(runner))
            .args(args)
            .current_dir(&work)
            .env_remove("SSO_HARNESS_BIN_DIR")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .output()
            .unwrap_or_else(|e| panic!("{runner} runs: {e}"));
        let t = text(&out);
        assert!(out.status.success(), "{runner}: {t}");
        assert!(
            t.contains(passed),
            "{runner} did not report `{passed}`: {t}"
        );
    }
}

/// One version for the crates, the wheel (maturin reads the conformance crate's) and the
/// npm packages (pack.sh gives the platform package the helper's).
#[test]
fn the_crates_the_wheel_and_the_npm_package_share_one_version() {
    let read = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let cargo = |p: &str| -> String {
        let doc: toml_edit::DocumentMut = read(p).parse().unwrap();
        doc["package"]["version"].as_str().unwrap().to_owned()
    };
    let npm: serde_json::Value =
        serde_json::from_str(&read("conformance/node/package.json")).unwrap();
    let versions = [
        ("mock-idp/Cargo.toml", cargo("mock-idp/Cargo.toml")),
        ("conformance/Cargo.toml", cargo("conformance/Cargo.toml")),
        (
            "conformance/node/package.json",
            npm["version"].as_str().unwrap().to_owned(),
        ),
    ];
    // Every platform package the helper names: the ones `pack.sh` builds for a release.
    let platforms = npm["optionalDependencies"].as_object().unwrap();
    let names: Vec<&str> = platforms.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["@sso-harness/linux-arm64", "@sso-harness/linux-x64"],
        "the platforms pack.sh builds for a release"
    );
    let versions: Vec<(String, String)> = versions
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v))
        .chain(platforms.iter().map(|(name, v)| {
            (
                format!("conformance/node/package.json optionalDependencies {name}"),
                v.as_str().unwrap().to_owned(),
            )
        }))
        .collect();
    for (file, v) in &versions {
        assert_eq!(
            v, &versions[0].1,
            "{file} has {v}, mock-idp {}",
            versions[0].1
        );
    }
    let pyproject = read("conformance/pyproject.toml");
    assert!(
        pyproject.contains("dynamic = [\"version\"]"),
        "the wheel takes its version from the conformance crate"
    );
}
