//! Just enough DER to tell which kind of key a PKCS#8 document holds, so a key that is
//! rejected is reported as what it is (a short RSA key, say), not as "unknown type".

/// The key type named by a PKCS#8 `privateKeyAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkcs8Kind {
    /// `rsaEncryption`, 1.2.840.113549.1.1.1.
    Rsa,
    /// `id-ecPublicKey`, 1.2.840.10045.2.1 (the curve is checked when parsing).
    Ec,
    /// `id-Ed25519`, 1.3.101.112.
    Ed25519,
    /// Anything else, or not PKCS#8.
    Other,
}

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// `PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm SEQUENCE { OID, .. }, .. }`
pub(crate) fn pkcs8_kind(der: &[u8]) -> Pkcs8Kind {
    let oid = (|| {
        let (info, _) = element(der, 0x30)?;
        let (_, rest) = element(info, 0x02)?;
        let (algorithm, _) = element(rest, 0x30)?;
        let (oid, _) = element(algorithm, 0x06)?;
        Some(oid)
    })();
    match oid {
        Some(RSA_ENCRYPTION) => Pkcs8Kind::Rsa,
        Some(EC_PUBLIC_KEY) => Pkcs8Kind::Ec,
        Some(ED25519) => Pkcs8Kind::Ed25519,
        _ => Pkcs8Kind::Other,
    }
}

/// PKCS#1 `RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, dp, dq, qi }` from the
/// big-endian components in that order (as a JWK carries them).
pub(crate) fn rsa_private_key(components: &[Vec<u8>]) -> Vec<u8> {
    let mut body = integer(&[0]);
    for component in components {
        body.extend(integer(component));
    }
    tagged(0x30, &body)
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }`.
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut body = integer(modulus);
    body.extend(integer(exponent));
    tagged(0x30, &body)
}

/// A non-negative INTEGER: leading zeros dropped, one added back if the high bit is set.
fn integer(big_endian: &[u8]) -> Vec<u8> {
    let start = big_endian.iter().take_while(|&&byte| byte == 0).count();
    let digits = big_endian.get(start..).unwrap_or_default();
    let mut content = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|&byte| byte & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(digits);
    tagged(0x02, &content)
}

fn tagged(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&byte| byte == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// Splits the first element, which must have `tag`, into its contents and what follows.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
            let len = bytes
                .iter()
                .fold(0usize, |len, &byte| (len << 8) | usize::from(byte));
            (len, rest)
        }
        _ => return None,
    };
    rest.split_at_checked(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_algorithm_of_generated_keys_and_refuses_garbage() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let ed = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|doc| pkcs8_kind(doc.as_ref()));
        assert_eq!(ed.ok(), Some(Pkcs8Kind::Ed25519));
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .map(|doc| pkcs8_kind(doc.as_ref()));
        assert_eq!(ec.ok(), Some(Pkcs8Kind::Ec));
        use aws_lc_rs::encoding::AsDer as _;
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .and_then(|pair| pair.as_der())
            .map(|doc| pkcs8_kind(doc.as_ref()));
        assert_eq!(rsa.ok(), Some(Pkcs8Kind::Rsa));
        for garbage in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 0, 0, 0, 0, 1],
            &[0x30, 0x02, 0x02],
        ] {
            assert_eq!(pkcs8_kind(garbage), Pkcs8Kind::Other);
        }
    }
}
