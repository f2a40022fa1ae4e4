//! End-to-end tests over real sockets.

mod authlib_clients;
mod device_flow;
mod lifecycle;
mod openid_client_par;
mod openidconnect_rp;
mod profiles;
mod support;
