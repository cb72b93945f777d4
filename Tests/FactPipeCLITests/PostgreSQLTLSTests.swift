import Foundation
import Testing

/// A server reached over TLS, as libpq's `sslmode` asks: a server of the test's own with a certificate for
/// 127.0.0.1 and a role it admits only over TLS (`hostssl`; the same role without TLS is rejected).
@Suite(.enabled(if: PostgreSQLTestServer.isEnabled, PostgreSQLTestServer.skipReason))
struct PostgreSQLTLSTests {
    @Test func sslModeRequireAndVerifyFullLoadAndAWrongRootIsOneLine() throws {
        let cluster = try PostgreSQLPrivateCluster(settings: ["ssl=on"])
        let role = "factpipe_tls_test"
        try cluster.sql("CREATE ROLE \(role) LOGIN")
        try cluster.sql("CREATE DATABASE kb ENCODING 'UTF8' TEMPLATE template0 OWNER \(role)")
        let url = cluster.url(database: "kb", user: role)
        let work = try CLIWorkspace()

        // Without TLS the server turns the role away; factpipe says so in one line naming the server.
        let plain = try work.write("plain.txt", "Sent(inTheClear).\n")
        let refused = try Factpipe.run(["import", plain, "--db", url + "?sslmode=disable"])
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n").filter { $0.contains("://\(role)@127.0.0.1:") }
        #expect(lines.count == 1 && lines[0].contains("no encryption"), "\(refused.stderr)")

        let first = try work.write("first.txt", "Sent(overTLS).\n")
        let required = try Factpipe.run(["import", first, "--db", url + "?sslmode=require", "--quiet"])
        #expect(required.status == 0, "\(required.stderr)")

        // verify-full checks the certificate against the root given and the host against its name.
        let second = try work.write("second.txt", "Sent(toAVerifiedServer).\n")
        let verified = try Factpipe.run(
            ["import", second, "--db", url + "?sslmode=verify-full&sslrootcert=\(cluster.certificate)", "--quiet"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try cluster.sql("SELECT statement FROM facts ORDER BY id", database: "kb")
                == [["Sent(overTLS)."], ["Sent(toAVerifiedServer)."]])

        // A root that did not sign the server's certificate: one line, nothing written.
        let otherRoot = work.path("other-root.crt")
        try Factpipe.tool("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                               "-subj", "/CN=127.0.0.1", "-keyout", work.path("other-root.key"),
                                               "-out", otherRoot])
        let third = try work.write("third.txt", "Sent(toAnImpostor).\n")
        let wrongRoot = try Factpipe.run(
            ["import", third, "--db", url + "?sslmode=verify-full&sslrootcert=\(otherRoot)"])
        #expect(wrongRoot.status == 1)
        let wrongLines = wrongRoot.stderr.split(separator: "\n").filter { $0.contains("://\(role)@127.0.0.1:") }
        #expect(wrongLines.count == 1 && wrongLines[0].contains("certificate verify failed"), "\(wrongRoot.stderr)")
        #expect(try cluster.sql("SELECT count(*) FROM facts", database: "kb") == [["2"]])
    }
}
