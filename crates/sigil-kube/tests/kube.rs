//! `KubeSecretKeySource` driven through the real `kube` client against
//! `sigil_testkit::kube_api::FakeKubeApi`, a local double of the API server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod kube {
    pub mod double;
    pub mod load;
    pub mod store;
    pub mod support;
    pub mod watch;
}
