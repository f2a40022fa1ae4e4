//! End-to-end tests of the workspace: `e2e/` (an independent Rust RP library against the
//! mock IdP) and `rps/` (RPs built on other languages' OIDC libraries, judged by the
//! conformance suite). This library itself is empty.
