import Testing
@testable import FactPipe

@Test func defaultLimitsMatchTheKnowledgeBaseGovernance() {
    let limits = FactLimits.default
    #expect(limits.maxPredicateLength == 100)
    #expect(limits.maxArgs == 10)
    #expect(limits.maxArgLength == 500)
    #expect(limits.maxStatementBytes == 10 * 1024)
    #expect(limits.maxRecordBytes == 1 << 20)
}
