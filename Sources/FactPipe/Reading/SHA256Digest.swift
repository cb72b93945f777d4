import CCrypto

/// A running SHA-256 of a byte stream, through OpenSSL's EVP interface (hardware SHA where present).
///
/// `fork()` gives a digest of the bytes added so far that goes on apart: an archive's frames and the
/// whole file are hashed in one pass so (the frames' digest is forked at their end, the fork takes
/// the rest).
final class SHA256Digest {
    private let context: OpaquePointer?
    private var isUsable: Bool

    /// An empty digest.
    init() {
        context = EVP_MD_CTX_new()
        isUsable = context.map { EVP_DigestInit_ex($0, EVP_sha256(), nil) == 1 } ?? false
    }

    private init(copying other: SHA256Digest) {
        context = EVP_MD_CTX_new()
        isUsable = other.isUsable && context.map { EVP_MD_CTX_copy_ex($0, other.context) == 1 } ?? false
    }

    /// A digest of the same bytes, updated and finished apart from this one.
    func fork() -> SHA256Digest {
        SHA256Digest(copying: self)
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Adds `bytes` to the digest.
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard isUsable, let base = bytes.baseAddress, bytes.count > 0 else { return }
        isUsable = EVP_DigestUpdate(context, base, bytes.count) == 1
    }

    /// The digest of everything added, as 64 lowercase hex digits; nil when OpenSSL failed.
    /// The digest cannot be updated afterwards.
    func finish() -> String? {
        guard isUsable else { return nil }
        isUsable = false
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1 else { return nil }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest.prefix(Int(length)) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
