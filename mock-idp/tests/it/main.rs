//! mock-idp's integration tests, one binary (faster to link on two cores).

mod admin;
mod advertised_issuer;
mod backchannel;
mod client_assertion;
mod config_errors;
mod debug;
mod errors;
mod faults;
mod flows;
mod form_post;
mod frontchannel;
mod fuzz;
mod journal;
mod lifecycle;
mod live_state;
mod model;
mod profiles;
mod shutdown;
mod slow_clients;
mod snapshots;
mod soak;
mod stateful_fuzz;
mod support;
mod tenants;
mod tls;
mod token_fuzz;
