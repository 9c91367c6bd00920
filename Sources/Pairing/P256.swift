import CInterop
import COpenSSL

/// A scalar modulo the P-256 group order, in a BIGNUM marked constant-time and cleared when released.
final class Scalar {
    let bignum: OpaquePointer

    init(bignum: OpaquePointer) {
        BN_set_flags(bignum, BN_FLG_CONSTTIME)
        self.bignum = bignum
    }

    deinit { BN_clear_free(bignum) }
}

/// A point of P-256, cleared when released (shares and K are derived from secrets).
final class Point {
    let raw: OpaquePointer

    init(raw: OpaquePointer) { self.raw = raw }

    deinit { EC_POINT_clear_free(raw) }
}

/// The P-256 arithmetic SPAKE2 needs, over OpenSSL's EC_POINT/BIGNUM API, plus RFC 9382's M and N.
/// One instance per SPAKE2 party: a BN_CTX must not be shared between threads.
final class P256 {
    /// RFC 9382 §6, P-256: M and N (SEC1 compressed), generated from a seed so nobody knows their
    /// discrete logarithms.
    static let mCompressed = "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"
    static let nCompressed = "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"
    /// Length of a scalar (and of w in the transcript) and of an uncompressed point.
    static let scalarLength = 32
    static let pointLength = 65

    private let group: OpaquePointer
    private let context: OpaquePointer
    /// Borrowed from `group`.
    private let order: OpaquePointer
    let m: Point
    let n: Point

    init() throws(PairingError) {
        guard let group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1) else {
            throw .openSSL(call: "EC_GROUP_new_by_curve_name(P-256)", detail: OpenSSLError.drain())
        }
        guard let context = BN_CTX_new() else {
            EC_GROUP_free(group)
            throw .openSSL(call: "BN_CTX_new", detail: OpenSSLError.drain())
        }
        self.group = group
        self.context = context
        self.order = EC_GROUP_get0_order(group)
        // The constants are well-formed; a failure here would be a broken libcrypto.
        m = try Self.point(in: group, context: context, encoded: Self.bytes(hex: Self.mCompressed))
        n = try Self.point(in: group, context: context, encoded: Self.bytes(hex: Self.nCompressed))
    }

    deinit {
        BN_CTX_free(context)
        EC_GROUP_free(group)
    }

    // MARK: Scalars

    /// A scalar from its big-endian bytes; it must lie in [1, order).
    func scalar(bigEndian bytes: [UInt8]) throws(PairingError) -> Scalar {
        let scalar = try newScalar()
        guard BN_bin2bn(bytes, Int32(bytes.count), scalar.bignum) != nil else {
            throw .openSSL(call: "BN_bin2bn", detail: OpenSSLError.drain())
        }
        guard BN_is_zero(scalar.bignum) == 0, BN_cmp(scalar.bignum, order) < 0 else {
            throw .invalidPassword("not in [1, order of P-256)")
        }
        return scalar
    }

    /// `bytes` (big-endian, any length) reduced modulo the order; for wide hash outputs.
    func scalar(reducing bytes: [UInt8]) throws(PairingError) -> Scalar {
        let wide = try newScalar()
        guard BN_bin2bn(bytes, Int32(bytes.count), wide.bignum) != nil else {
            throw .openSSL(call: "BN_bin2bn", detail: OpenSSLError.drain())
        }
        let reduced = try newScalar()
        guard BN_nnmod(reduced.bignum, wide.bignum, order, context) == 1 else {
            throw .openSSL(call: "BN_nnmod", detail: OpenSSLError.drain())
        }
        return reduced
    }

    /// A uniformly random scalar in [1, order) from OpenSSL's private DRBG.
    func randomScalar() throws(PairingError) -> Scalar {
        let scalar = try newScalar()
        repeat {
            guard BN_priv_rand_range(scalar.bignum, order) == 1 else {
                throw .openSSL(call: "BN_priv_rand_range", detail: OpenSSLError.drain())
            }
        } while BN_is_zero(scalar.bignum) != 0
        return scalar
    }

    /// The scalar as 32 big-endian bytes (RFC 9382 encodes w this way in the transcript).
    func encode(_ scalar: Scalar) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.scalarLength)
        _ = BN_bn2binpad(scalar.bignum, &out, Int32(Self.scalarLength))
        return out
    }

    // MARK: Points

    /// A peer's share: exactly an uncompressed SEC1 point, on the curve, not the point at infinity.
    func peerPoint(_ bytes: [UInt8]) throws(PairingError) -> Point {
        guard bytes.count == Self.pointLength, bytes[0] == 0x04 else {
            throw .invalidShare("expected a 65-byte uncompressed P-256 point, got \(bytes.count) bytes")
        }
        let point: Point
        do {
            point = try Self.point(in: group, context: context, encoded: bytes)
        } catch {
            throw .invalidShare("not a point on P-256")
        }
        // oct2point already checks the curve equation; checked again so the guarantee does not rest
        // on one OpenSSL code path.
        guard EC_POINT_is_on_curve(group, point.raw, context) == 1 else {
            throw .invalidShare("not a point on P-256")
        }
        guard !isInfinity(point) else { throw .invalidShare("the point at infinity") }
        return point
    }

    /// SEC1 uncompressed encoding (0x04 ‖ x ‖ y), the form RFC 9382's vectors use.
    func encode(_ point: Point) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.pointLength)
        let written = EC_POINT_point2oct(group, point.raw, POINT_CONVERSION_UNCOMPRESSED, &out, out.count, context)
        return Array(out[0..<written])
    }

    func isInfinity(_ point: Point) -> Bool { EC_POINT_is_at_infinity(group, point.raw) == 1 }

    /// `scalar`·G. Single-scalar multiplications only: OpenSSL runs those on its constant-time
    /// ladder, whereas a combined a·G + b·Q call takes the variable-time wNAF path.
    func multiplyGenerator(by scalar: Scalar) throws(PairingError) -> Point {
        let result = try newPoint()
        guard EC_POINT_mul(group, result.raw, scalar.bignum, nil, nil, context) == 1 else {
            throw .openSSL(call: "EC_POINT_mul", detail: OpenSSLError.drain())
        }
        return result
    }

    /// `scalar`·`point` (constant-time ladder, see `multiplyGenerator`).
    func multiply(_ point: Point, by scalar: Scalar) throws(PairingError) -> Point {
        let result = try newPoint()
        guard EC_POINT_mul(group, result.raw, nil, point.raw, scalar.bignum, context) == 1 else {
            throw .openSSL(call: "EC_POINT_mul", detail: OpenSSLError.drain())
        }
        return result
    }

    func add(_ a: Point, _ b: Point) throws(PairingError) -> Point {
        let result = try newPoint()
        guard EC_POINT_add(group, result.raw, a.raw, b.raw, context) == 1 else {
            throw .openSSL(call: "EC_POINT_add", detail: OpenSSLError.drain())
        }
        return result
    }

    /// a − b. Consumes nothing: `b` is copied before it is negated.
    func subtract(_ a: Point, _ b: Point) throws(PairingError) -> Point {
        let negated = try newPoint()
        guard EC_POINT_copy(negated.raw, b.raw) == 1, EC_POINT_invert(group, negated.raw, context) == 1 else {
            throw .openSSL(call: "EC_POINT_invert", detail: OpenSSLError.drain())
        }
        return try add(a, negated)
    }

    // MARK: Private

    private func newScalar() throws(PairingError) -> Scalar {
        guard let bignum = BN_new() else { throw .openSSL(call: "BN_new", detail: OpenSSLError.drain()) }
        return Scalar(bignum: bignum)
    }

    private func newPoint() throws(PairingError) -> Point {
        guard let raw = EC_POINT_new(group) else { throw .openSSL(call: "EC_POINT_new", detail: OpenSSLError.drain()) }
        return Point(raw: raw)
    }

    private static func point(in group: OpaquePointer, context: OpaquePointer,
                              encoded: [UInt8]) throws(PairingError) -> Point {
        guard let raw = EC_POINT_new(group) else { throw .openSSL(call: "EC_POINT_new", detail: OpenSSLError.drain()) }
        let point = Point(raw: raw)
        guard EC_POINT_oct2point(group, raw, encoded, encoded.count, context) == 1 else {
            throw .openSSL(call: "EC_POINT_oct2point", detail: OpenSSLError.drain())
        }
        return point
    }

    private static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8).map { $0 <= 0x39 ? $0 - 0x30 : $0 - 0x61 + 10 }
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}
