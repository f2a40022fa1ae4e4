//! End-to-end tests over real sockets.

mod lifecycle;
mod openidconnect_rp;
mod profiles;
mod support;
