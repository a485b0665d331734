//! The administrator's side: tenants' settings, SSO connections, keys, admin sign-in, product
//! access and the audit log, over [`store::AdminStore`].

pub mod model;
pub mod store;
