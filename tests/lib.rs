//! End-to-end tests of the workspace live in `e2e/`; this library is empty for now and will
//! hold the reference relying party.
