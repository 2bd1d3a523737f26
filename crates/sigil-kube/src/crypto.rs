//! The TLS crypto provider for the Kubernetes client.

/// Makes aws-lc-rs the process's rustls crypto provider, unless one is installed already.
///
/// rustls picks its provider from crate features when there is exactly one; if anything in
/// the build enables `ring` next to `aws-lc-rs` (kube's default features do), building a TLS
/// client panics. Call this before building a `kube::Client` (or any rustls client) by hand;
/// [`KubeSecretKeySource::from_environment`](crate::KubeSecretKeySource::from_environment)
/// calls it itself. Calling it again, or after another provider was installed, does nothing.
pub fn install_crypto_provider() {
    // The only error is "a provider is installed already", which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
