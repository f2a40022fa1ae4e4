//! The conformance suite against the reference RP: the correct RP passes everything, each
//! defect is caught by exactly its scenarios, launch and attach modes, reports.

mod defects;
mod explore;
mod guard;
mod holes;
mod hostile;
mod modes;
mod profiles;
mod support;
