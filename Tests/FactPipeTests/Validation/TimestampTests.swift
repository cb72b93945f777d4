import Foundation
import Testing

@testable import FactPipe

@Suite struct TimestampTests {
    /// Known instants, checked against Python's `datetime.fromtimestamp(s, timezone.utc)`.
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_709_164_800, "2024-02-29T00:00:00Z"),
        (1_709_251_199, "2024-02-29T23:59:59Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (-0.5, "1969-12-31T23:59:59.5Z"),
        (1.5, "1970-01-01T00:00:01.5Z"),
        (1_700_000_000.123456, "2023-11-14T22:13:20.123456Z"),
        (0.9999999, "1970-01-01T00:00:01Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (-2_208_988_800, "1900-01-01T00:00:00Z"),
    ])
    func formatsEpochSecondsAsISO8601UTC(seconds: Double, expected: String) {
        #expect(Timestamp.iso8601(epochSeconds: seconds) == expected)
    }

    @Test(arguments: [253_402_300_800, -62_135_596_801, Double.nan, Double.infinity, -Double.infinity, 1e18])
    func refusesEpochSecondsOutsideYearsOneTo9999(seconds: Double) {
        #expect(Timestamp.iso8601(epochSeconds: seconds) == nil)
    }

    @Test func nowIsAValidUTCTimeCloseToTheSystemClock() throws {
        let now = Timestamp.now()
        #expect(now.hasSuffix("Z"))
        let normalized = try #require(Timestamp.normalize(now))
        #expect(normalized == now)
        // Whole seconds, read by Foundation's own parser.
        let date = try #require(ISO8601DateFormatter().date(from: String(now.prefix(19)) + "Z"))
        #expect(abs(date.timeIntervalSinceNow) < 5)
    }

    @Test(arguments: [
        ("2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z"),
        ("2024-05-06t07:08:09z", "2024-05-06T07:08:09Z"),
        ("2024-05-06 07:08:09", "2024-05-06T07:08:09Z"),
        ("2024-05-06T07:08", "2024-05-06T07:08:00Z"),
        ("2024-05-06", "2024-05-06T00:00:00Z"),
        ("  2024-05-06T07:08:09Z  ", "2024-05-06T07:08:09Z"),
        ("2024-05-06T07:08:09.120Z", "2024-05-06T07:08:09.12Z"),
        ("2024-05-06T07:08:09,5Z", "2024-05-06T07:08:09.5Z"),
        ("2024-05-06T07:08:09.000Z", "2024-05-06T07:08:09Z"),
        ("2024-05-06T07:08:09.1234567891Z", "2024-05-06T07:08:09.123456789Z"),
        ("2024-05-06T07:08:09+05:30", "2024-05-06T01:38:09Z"),
        ("2024-05-06T07:08:09+0530", "2024-05-06T01:38:09Z"),
        ("2024-05-06T07:08:09-00:00", "2024-05-06T07:08:09Z"),
        // A leap second, at the end of a UTC day, also written with an offset: the next second.
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"),
        ("2017-01-01T00:59:60+01:00", "2017-01-01T00:00:00Z"),
        ("2016-12-31T18:59:60.5-05:00", "2017-01-01T00:00:00.5Z"),
    ])
    func normalizesISO8601TimesToUTC(input: String, expected: String) {
        #expect(Timestamp.normalize(input) == expected)
    }

    @Test(arguments: [
        ("2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00Z"),
        ("2024-12-31T23:00:00-02:00", "2025-01-01T01:00:00Z"),
        ("2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"),
        ("2023-03-01T01:00:00+02:00", "2023-02-28T23:00:00Z"),
        ("2000-03-01T00:00:00+00:01", "2000-02-29T23:59:00Z"),
        ("1900-03-01T00:00:00+00:01", "1900-02-28T23:59:00Z"),
        ("2024-02-28T23:30:00-00:45", "2024-02-29T00:15:00Z"),
        ("2024-06-15T12:00:00.25+14:00", "2024-06-14T22:00:00.25Z"),
    ])
    func offsetsCrossingMidnightMoveTheDateAcrossMonthsYearsAndLeapDays(input: String, expected: String) {
        #expect(Timestamp.normalize(input) == expected)
    }

    @Test(arguments: ["2000-02-29", "2024-02-29", "2400-02-29", "1600-02-29"])
    func acceptsLeapDaysOfLeapYears(input: String) {
        #expect(Timestamp.normalize(input) == input + "T00:00:00Z")
    }

    @Test(arguments: [
        "2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2024-04-31", "2024-06-31", "2024-09-31",
        "2024-11-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
    ])
    func refusesDatesThatDoNotExist(input: String) {
        #expect(Timestamp.normalize(input) == nil)
    }

    @Test(arguments: [
        "", "yesterday", "2024-1-01", "20240101", "2024/01/01", "2024-01-01T", "2024-01-01T12",
        "2024-01-01T24:00:00Z", "2024-01-01T12:60Z", "2024-01-01T12:00:61Z", "2024-01-01T12:00:00+25:00",
        // A second 60 only where a leap second is, at the end of a UTC day.
        "2024-01-01T00:00:60Z", "2024-01-01T12:59:60Z", "2016-12-31T23:59:60+01:00",
        "2024-01-01T12:00:00+01:60", "2024-01-01T12:00:00+1", "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00Zjunk",
        "2024-01-01T12:00:00 Z", "2024-01-01Z", "0000-01-01", "0001-01-01T00:00:00+00:01",
    ])
    func refusesTextThatIsNotAnISO8601Time(input: String) {
        #expect(Timestamp.normalize(input) == nil, "\(input.debugDescription)")
    }
}
