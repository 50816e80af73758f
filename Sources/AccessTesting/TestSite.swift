import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A small site with fixed keys, for tests and benchmarks: spaces `room-1`…, each with one lock
/// `lock-N` and one pole `pole-N`; one issuer `kid-1`/`https://booking.example`.
public struct TestSite: @unchecked Sendable {
    // Holds SymmetricKeys, which are immutable; swift-crypto 3 just does not declare them Sendable.
    public let site: Site
    public let siteKey: SymmetricKey
    public let pinKey: SymmetricKey
    public let minter: TokenMinter
    public var policy: AccessPolicy

    public static let siteKeyBytes = (0..<32).map { UInt8($0 * 7 & 0xFF) }
    public static let pinKeyBytes = (0..<32).map { UInt8(255 - $0) }

    public init(id: String = "site-1", spaces: Int = 3, policy: AccessPolicy = AccessPolicy()) {
        var spaceList: [Space] = []
        var locks: [Lock] = []
        var poles: [Pole] = []
        for index in 1...max(1, spaces) {
            spaceList.append(Space(id: "room-\(index)", poleIDs: ["pole-\(index)"]))
            locks.append(Lock(id: "lock-\(index)", spaceID: "room-\(index)"))
            poles.append(Pole(id: "pole-\(index)"))
        }
        // The ids above follow the identifier rule, so this cannot fail.
        site =
            (try? Site(id: id, spaces: spaceList, locks: locks, poles: poles))
            ?? { preconditionFailure("test site ids are valid") }()
        siteKey = SymmetricKey(data: Self.siteKeyBytes)
        pinKey = SymmetricKey(data: Self.pinKeyBytes)
        let seed = Array(SHA256.hash(data: Array("test-issuer".utf8)))
        let privateKey = (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) ?? .init()
        minter = TokenMinter(kid: "kid-1", issuer: "https://booking.example", privateKey: privateKey)
        self.policy = policy
    }

    public var pins: KeypadPIN { KeypadPIN(pinKey: pinKey, siteID: site.id, digits: policy.pinDigits) }
    public var pinIndex: PINIndex { PINIndex(pins: pins, pinKey: pinKey) }
    public var deviceKeys: DeviceKeys { DeviceKeys(siteKey: siteKey, siteID: site.id) }

    public func engineConfiguration(gatewayID: String = "gw-1") -> AccessEngineConfiguration {
        AccessEngineConfiguration(
            gatewayID: gatewayID, site: site, policy: policy, issuers: [minter.issuerKey], siteKey: siteKey,
            pinKey: pinKey)
    }

    public func pin(of reservation: Reservation) -> String {
        pins.pin(
            spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
            endUnixS: reservation.endUnixS)
    }

    public func token(for reservation: Reservation, jti: String, notBeforeS: Int64? = nil, expiresS: Int64? = nil)
        -> String
    {
        minter.token(
            holder: reservation.holder, reservationID: reservation.id, spaceID: reservation.spaceID,
            notBeforeS: notBeforeS ?? reservation.windowStartMs / 1000,
            expiresS: expiresS ?? reservation.windowEndMs / 1000,
            jti: jti)
    }

    /// A request payload as a lock sends it.
    public static func requestPayload(requestID: String, credential: Credential, ts: Int64? = nil) -> [UInt8] {
        Array(AccessRequest(requestID: requestID, credential: credential, timestampMs: ts).payload.utf8)
    }
}
