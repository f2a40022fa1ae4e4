//! The docs cannot lie: the README (the landing page) and the book (`docs/`, an mdBook)
//! are held to the code. Every link resolves — to a file of the repository, a chapter, or a
//! heading inside one — and the book links only inside itself (its pages are served apart
//! from the repository); every chapter is in `SUMMARY.md`; every example marked
//! `runnable` (a fenced block whose info string is `sh runnable`) runs against a live mock
//! IdP on the built-in defaults and prints what its `# → …` lines say; and the book builds
//! with mdbook, when mdbook is installed (CI installs it; without it, outside CI, the build
//! test says so and passes, the way the browser test does without chromium).

mod build;
mod examples;
mod links;
mod pages;
