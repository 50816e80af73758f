import AccessGateway
import Foundation
import Logging
import Testing

/// Log values a parser could split are quoted, in every format.
@Suite struct LogLineFormatTests {
    let fields = [("detail", "the lock reports tampering"), ("lock", "lock-1"), ("quote", #"say "hi"\now"#)]

    @Test func textQuotesValuesWithSpacesQuotesAndNewlines() {
        let line = LogLineFormat.text.line(
            timestamp: nil, level: .notice, label: "access-gateway", message: "alarm", fields: fields)
        #expect(
            line == #"access-gateway: alarm detail="the lock reports tampering" lock=lock-1 quote="say \"hi\"\\now""#)
    }

    @Test func logfmtHasEveryPartAsAPair() {
        let line = LogLineFormat.logfmt.line(
            timestamp: "2026-11-30T12:00:00.000Z", level: .info, label: "access-gateway", message: "broker connected",
            fields: [("requests", "access/site-1/locks/+/request"), ("empty", ""), ("nl", "a\nb")])
        #expect(
            line
                == #"ts=2026-11-30T12:00:00.000Z level=info logger=access-gateway msg="broker connected" requests=access/site-1/locks/+/request empty="" nl="a\nb""#
        )
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let line = LogLineFormat.json.line(
            timestamp: nil, level: .warning, label: "access-gateway", message: "x\ny", fields: fields + [("msg", "m")])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(
            object["msg"] == "x\ny" && object["field_msg"] == "m" && object["detail"] == "the lock reports tampering")
        #expect(object["level"] == "warning" && object["ts"] == nil)
    }
}
