//! End-to-end tests over real sockets.

mod openidconnect_rp;
