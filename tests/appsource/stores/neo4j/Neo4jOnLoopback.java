// Neo4j for the appsource tests: neo4j-harness's in-process Neo4j with Bolt on 127.0.0.1:<port>,
// the database under <dir>. Prints "BOLT <uri>" when ready; runs until killed.
// Run with Java 17's source-file mode: java -cp '<neo4j-harness jars>/*' Neo4jOnLoopback.java PORT DIR
import java.nio.file.Path;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

public class Neo4jOnLoopback {
    public static void main(String[] args) throws Exception {
        Neo4j neo4j = Neo4jBuilders.newInProcessBuilder(Path.of(args[1]))
                .withDisabledServer()
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", Integer.parseInt(args[0])))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(neo4j::close));
        System.out.println("BOLT " + neo4j.boltURI());
        System.out.flush();
        Thread.currentThread().join();
    }
}
