package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.AnalysisTemplate;
import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpecParserTest {
  private static final Path BASE = Path.of("/srv/app");

  static ParsedSpec parse(String yaml) {
    return SpecParser.parse(
        "shop.yaml",
        yaml,
        BASE,
        Map.of("HOME_DIR", "/opt/home"),
        dev.pilothouse.tsdb.promql.Parser::problem);
  }

  static String svc(String extra) {
    return "services:\n  shop:\n    command: ./server\n" + extra;
  }

  static Stream<Arguments> badInputs() {
    return Stream.of(
        Arguments.of("empty file", "", 1, 1, "", "the file is empty"),
        Arguments.of("top level is a list", "- a\n- b\n", 1, 1, "", "the top level must be a map"),
        Arguments.of(
            "services missing",
            "version: 1\n",
            1,
            1,
            "services",
            "required field 'services' is missing"),
        Arguments.of(
            "unknown top-level field",
            "servces:\n  a: {}\n",
            1,
            1,
            "servces",
            "unknown field 'servces'"),
        Arguments.of(
            "services is a list",
            "services: [a]\n",
            1,
            11,
            "services",
            "must be a map of service names"),
        Arguments.of(
            "invalid service name",
            "services:\n  Shop_1:\n    command: x\n",
            2,
            3,
            "services.Shop_1",
            "invalid service name 'Shop_1'"),
        Arguments.of(
            "command missing",
            "services:\n  shop:\n    replicas: 2\n",
            3,
            5,
            "services.shop.command",
            "required field 'command' is missing"),
        Arguments.of(
            "unknown service field",
            svc("    replica: 3\n"),
            4,
            5,
            "services.shop.replica",
            "unknown field 'replica'"),
        Arguments.of(
            "negative replicas",
            svc("    replicas: -1\n"),
            4,
            15,
            "services.shop.replicas",
            "must be between 0 and 1000, but is -1"),
        Arguments.of(
            "replicas as words",
            svc("    replicas: three\n"),
            4,
            15,
            "services.shop.replicas",
            "must be a whole number, but is a string 'three'"),
        Arguments.of(
            "replicas fractional",
            svc("    replicas: 2.5\n"),
            4,
            15,
            "services.shop.replicas",
            "must be a whole number, but is a number '2.5'"),
        Arguments.of(
            "args not a list",
            svc("    args: --port\n"),
            4,
            11,
            "services.shop.args",
            "must be a list of strings"),
        Arguments.of(
            "args item is a map",
            svc("    args: [{a: 1}]\n"),
            4,
            12,
            "services.shop.args[0]",
            "must be a string, but is a map"),
        Arguments.of(
            "env not a map",
            svc("    env: [A]\n"),
            4,
            10,
            "services.shop.env",
            "must be a map of NAME: value"),
        Arguments.of(
            "env bad name",
            svc("    env:\n      1BAD: x\n"),
            5,
            7,
            "services.shop.env.1BAD",
            "invalid environment variable name '1BAD'"),
        Arguments.of(
            "env nested value",
            svc("    env:\n      A: {b: 1}\n"),
            5,
            10,
            "services.shop.env.A",
            "must be a single value"),
        Arguments.of(
            "duration without unit",
            svc("    readiness:\n      http: /r\n      interval: 5\n"),
            6,
            17,
            "services.shop.readiness.interval",
            "duration 5 has no unit"),
        Arguments.of(
            "duration unparsable",
            svc("    readiness:\n      http: /r\n      interval: 5 sec\n"),
            6,
            17,
            "services.shop.readiness.interval",
            "invalid duration a string '5 sec'"),
        Arguments.of(
            "zero interval",
            svc("    readiness:\n      http: /r\n      interval: 0s\n"),
            6,
            17,
            "services.shop.readiness.interval",
            "must be longer than zero"),
        Arguments.of(
            "two checks in one probe",
            svc("    liveness:\n      http: /h\n      tcp: true\n"),
            5,
            7,
            "services.shop.liveness",
            "more than one check given"),
        Arguments.of(
            "probe without check",
            svc("    liveness:\n      interval: 1s\n"),
            5,
            7,
            "services.shop.liveness",
            "no check given"),
        Arguments.of(
            "http path without slash",
            svc("    liveness:\n      http: healthz\n"),
            5,
            13,
            "services.shop.liveness.http",
            "HTTP path must start with '/'"),
        Arguments.of(
            "failure threshold zero",
            svc("    liveness:\n      tcp: true\n      failureThreshold: 0\n"),
            6,
            25,
            "services.shop.liveness.failureThreshold",
            "must be between 1 and 1000, but is 0"),
        Arguments.of(
            "unknown restart policy",
            svc("    restart:\n      policy: sometimes\n"),
            5,
            15,
            "services.shop.restart.policy",
            "unknown restart policy a string 'sometimes'"),
        Arguments.of(
            "jitter out of range",
            svc("    restart:\n      jitter: 1.5\n"),
            5,
            15,
            "services.shop.restart.jitter",
            "must be in [0.0, 1.0), but is 1.5"),
        Arguments.of(
            "max backoff below initial",
            svc("    restart:\n      initialBackoff: 10s\n      maxBackoff: 1s\n"),
            6,
            19,
            "services.shop.restart.maxBackoff",
            "must not be shorter than initialBackoff"),
        Arguments.of(
            "unknown stop signal",
            svc("    stop:\n      signal: TERMINATE\n"),
            5,
            15,
            "services.shop.stop.signal",
            "unknown signal 'TERMINATE'"),
        Arguments.of(
            "stop timeout too long",
            svc("    stop:\n      timeout: 2h\n"),
            5,
            16,
            "services.shop.stop.timeout",
            "must be at most 1h"),
        Arguments.of(
            "memory unparsable",
            svc("    resources:\n      memory: lots\n"),
            5,
            15,
            "services.shop.resources.memory",
            "invalid memory size a string 'lots'"),
        Arguments.of(
            "cpu negative",
            svc("    resources:\n      cpu: -1\n"),
            5,
            12,
            "services.shop.resources.cpu",
            "invalid CPU amount"),
        Arguments.of(
            "unset variable",
            "services:\n  shop:\n    command: ${NOPE}/server\n",
            3,
            14,
            "services.shop.command",
            "variable ${NOPE} is not set"),
        Arguments.of(
            "duplicate key",
            svc("    replicas: 1\n    replicas: 2\n"),
            5,
            5,
            "replicas",
            "duplicate key 'replicas' (first at line 4)"),
        Arguments.of(
            "unclosed flow list",
            svc("    args: [a, b\n"),
            4,
            16,
            "",
            "not valid YAML: while parsing a flow sequence; expected ',' or ']'"),
        Arguments.of(
            "two documents",
            svc("") + "---\nservices: {}\n",
            5,
            1,
            "",
            "more than one YAML document"),
        Arguments.of(
            "same field in two spellings",
            svc(
                "    liveness:\n      tcp: true\n      failure_threshold: 2\n      failureThreshold: 3\n"),
            7,
            7,
            "services.shop.liveness.failureThreshold",
            "is given twice"),
        Arguments.of(
            "unsupported spec version",
            "version: 2\nservices: {}\n",
            1,
            10,
            "version",
            "unsupported spec version"),
        Arguments.of(
            "probe port out of range",
            svc("    readiness:\n      tcp: true\n      port: 70000\n"),
            6,
            13,
            "services.shop.readiness.port",
            "must be between 1 and 65535, but is 70000"),
        Arguments.of(
            "tcp false",
            svc("    readiness:\n      tcp: false\n"),
            5,
            12,
            "services.shop.readiness.tcp",
            "tcp: false declares no check"),
        Arguments.of(
            "exec empty",
            svc("    readiness:\n      exec: []\n"),
            5,
            13,
            "services.shop.readiness.exec",
            "must not be empty"),
        Arguments.of(
            "service is a scalar",
            "services:\n  shop: yes\n",
            2,
            9,
            "services.shop",
            "must be a map of service fields"),
        Arguments.of(
            "replicas too many",
            svc("    replicas: 5000\n"),
            4,
            15,
            "services.shop.replicas",
            "must be between 0 and 1000, but is 5000"),
        Arguments.of(
            "empty command",
            "services:\n  shop:\n    command: ''\n",
            3,
            14,
            "services.shop.command",
            "must not be empty"),
        Arguments.of(
            "unknown load balancer",
            svc("    route:\n      loadBalancer: random\n"),
            5,
            21,
            "services.shop.route.loadBalancer",
            "unknown load balancer 'random'"),
        Arguments.of(
            "route prefix without slash",
            svc("    route:\n      pathPrefix: api\n"),
            5,
            19,
            "services.shop.route.pathPrefix",
            "must start with '/'"),
        Arguments.of(
            "route as string without slash",
            svc("    route: api\n"),
            4,
            12,
            "services.shop.route",
            "a route given as a string is a path prefix"),
        Arguments.of(
            "rate limit without rate",
            svc("    route:\n      rateLimit: {burst: 5}\n"),
            5,
            18,
            "services.shop.route.rateLimit.requestsPerSecond",
            "required field 'requestsPerSecond' is missing"),
        Arguments.of(
            "proxy port out of range",
            "proxy:\n  port: 99999\n" + svc(""),
            2,
            9,
            "proxy.port",
            "must be between 0 and 65535"),
        Arguments.of(
            "tls file missing",
            "proxy:\n  tls: {cert: nope.pem, key: nope.key}\n" + svc(""),
            2,
            15,
            "proxy.tls.cert",
            "does not exist or is not readable"),
        Arguments.of(
            "two services on one route",
            "services:\n  a:\n    command: x\n    route: /\n  b:\n    command: y\n    route: /\n",
            7,
            12,
            "services.b.route",
            "routes the same host and path prefix as services.a.route"),
        Arguments.of(
            "fault percent out of range",
            svc("    route:\n      faults: {abortPercent: 150}\n"),
            5,
            30,
            "services.shop.route.faults.abortPercent",
            "must be in [0.0, 100.0]"),
        Arguments.of(
            "drain timeout too long",
            svc("    stop:\n      drainTimeout: 2h\n"),
            5,
            21,
            "services.shop.stop.drainTimeout",
            "must be at most 1h"),
        Arguments.of(
            "canary without route",
            svc("    strategy: {type: canary}\n"),
            4,
            15,
            "services.shop.strategy",
            "a canary strategy needs the service to have a route"),
        Arguments.of(
            "unknown strategy",
            svc("    route: /\n    strategy: {type: linear}\n"),
            5,
            22,
            "services.shop.strategy.type",
            "unknown strategy 'linear'"),
        Arguments.of(
            "rolling that can never replace",
            svc("    strategy: {type: rolling, maxSurge: 0, maxUnavailable: 0}\n"),
            4,
            41,
            "services.shop.strategy.maxSurge",
            "maxSurge and maxUnavailable are both 0"),
        Arguments.of(
            "surge over 100%",
            svc("    strategy: {type: rolling, maxSurge: 150%}\n"),
            4,
            41,
            "services.shop.strategy.maxSurge",
            "invalid amount"),
        Arguments.of(
            "steps on blue-green",
            svc(
                "    route: /\n    strategy:\n      type: blueGreen\n      steps: [{weight: 10}]\n"),
            7,
            14,
            "services.shop.strategy.steps",
            "'steps' does not apply to a blueGreen strategy"),
        Arguments.of(
            "match with an invalid regex",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      match:\n        - {header: x-user, regex: 'a(b'}\n"),
            8,
            35,
            "services.shop.strategy.match[0].regex",
            "invalid regular expression"),
        Arguments.of(
            "match with both a value and a prefix",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      match:\n        - {header: x-user, value: a, prefix: b}\n"),
            8,
            11,
            "services.shop.strategy.match[0]",
            "give at most one of 'value', 'prefix' or 'regex'"),
        Arguments.of(
            "unknown gate type",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      gates:\n        - {type: approve, url: 'http://x'}\n"),
            8,
            18,
            "services.shop.strategy.gates[0].type",
            "unknown gate type 'approve'"),
        Arguments.of(
            "gate without a URL",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      gates:\n        - {type: rollback}\n"),
            8,
            11,
            "services.shop.strategy.gates[0].url",
            "required field 'url' is missing"),
        Arguments.of(
            "gates on a rolling deploy",
            svc("    strategy:\n      type: rolling\n      gates: []\n"),
            6,
            14,
            "services.shop.strategy.gates",
            "'gates' does not apply to a rolling strategy"),
        Arguments.of(
            "maxSurge on a canary of a fixed size",
            svc("    route: /\n    strategy:\n      type: canary\n      maxSurge: 2\n"),
            7,
            17,
            "services.shop.strategy.maxSurge",
            "'maxSurge' does not apply to a canary strategy"),
        Arguments.of(
            "a service name with '--'",
            "services:\n  shop--green:\n    command: ./s\n",
            2,
            3,
            "services.shop--green",
            "service name 'shop--green' contains '--'"),
        Arguments.of(
            "a baseline with a weight over 50",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      baseline: true\n"
                    + "      steps:\n        - weight: 80\n"),
            9,
            11,
            "services.shop.strategy.steps[0]",
            "with a baseline the canary's weight is at most 50%"),
        Arguments.of(
            "auto size on blue-green",
            svc("    route: /\n    strategy:\n      type: blueGreen\n      canaryReplicas: auto\n"),
            7,
            23,
            "services.shop.strategy.canaryReplicas",
            "'auto' applies to a canary only"),
        Arguments.of(
            "validation on blue-green (its rollback window is what is watched)",
            svc("    route: /\n    strategy:\n      type: blueGreen\n      validation: 5m\n"),
            7,
            19,
            "services.shop.strategy.validation",
            "'validation' does not apply to a blueGreen strategy"),
        Arguments.of(
            "checks on blue-green (it has no analysis steps to run them at)",
            svc(
                "    route: /\n    strategy:\n      type: blueGreen\n      checks:\n        - {command: ./x}\n"),
            8,
            9,
            "services.shop.strategy.checks",
            "'checks' does not apply to a blueGreen strategy"),
        Arguments.of(
            "check without target",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      checks:\n        - {name: x}\n"),
            8,
            11,
            "services.shop.strategy.checks[0]",
            "give exactly one of 'webhook', 'command' or 'promql'"),
        Arguments.of(
            "webhook not a URL",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      checks:\n        - {webhook: ftp://x}\n"),
            8,
            21,
            "services.shop.strategy.checks[0].webhook",
            "must be an http:// or https:// URL"),
        Arguments.of(
            "check with invalid PromQL",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      checks:\n        - {promql: 'sum(rate(x[5m])'}\n"),
            8,
            20,
            "services.shop.strategy.checks[0].promql",
            "invalid PromQL: parse error at char 16: unexpected end of input"),
        Arguments.of(
            "unknown dependency",
            svc("    deploy: {dependsOn: [db]}\n"),
            4,
            26,
            "services.shop.deploy.dependsOn[0]",
            "no service named 'db'"),
        Arguments.of(
            "bad checksum",
            svc("    deploy: {artifact: app.jar, sha256: xyz}\n"),
            4,
            41,
            "services.shop.deploy.sha256",
            "must be 64 hex digits"),
        Arguments.of(
            "unknown freeze day",
            svc("    deploy:\n      freeze: [{days: [funday]}]\n"),
            5,
            24,
            "services.shop.deploy.freeze[0].days[0]",
            "unknown day 'funday'"),
        Arguments.of(
            "freeze ending before it starts",
            svc(
                "    deploy:\n      freeze: [{start: '2026-12-27T00:00:00Z', end: '2026-12-24T00:00:00Z'}]\n"),
            5,
            53,
            "services.shop.deploy.freeze[0].end",
            "must be after start"),
        Arguments.of(
            "unknown time zone",
            svc("    deploy:\n      freeze: [{days: [sat], timezone: Mars/Olympus}]\n"),
            5,
            40,
            "services.shop.deploy.freeze[0].timezone",
            "unknown time zone 'Mars/Olympus'"),
        Arguments.of(
            "hook timeout without unit",
            svc("    deploy: {preDeploy: ./dump.sh, preDeployTimeout: 30}\n"),
            4,
            54,
            "services.shop.deploy.preDeployTimeout",
            "duration 30 has no unit"),
        Arguments.of(
            "step with two actions",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      steps:\n        - {weight: 10, pause: 5s}\n"),
            8,
            11,
            "services.shop.strategy.steps[0]",
            "each step is one of"),
        Arguments.of(
            "weight over 100",
            svc(
                "    route: /\n    strategy:\n      type: canary\n      steps:\n        - weight: 150\n"),
            8,
            19,
            "services.shop.strategy.steps[0].weight",
            "must be between 0 and 100"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void reportsLocationAndMessage(
      String name, String yaml, int line, int column, String path, String message) {
    ParsedSpec r = parse(yaml);
    assertThat(r.valid()).as("valid").isFalse();
    assertThat(r.spec()).isEmpty();
    SpecError e = r.errors().get(0);
    assertThat(e.toString()).as(r.errors().toString()).contains(message);
    assertThat(e.file()).isEqualTo("shop.yaml");
    assertThat(List.of(e.line(), e.column())).as(e.toString()).containsExactly(line, column);
    assertThat(e.path()).as(e.toString()).isEqualTo(path);
    assertThat(e.toString()).startsWith("shop.yaml:" + line + ":" + column + ": ");
  }

  @Test
  void anchorsAliasesAndMergeKeys_areResolved_asYamlDoes() {
    String yaml =
        "services:\n"
            + "  shop: &base\n"
            + "    command: ./s\n"
            + "    replicas: 2\n"
            + "    env: {MODE: fast}\n"
            + "  copy: *base\n"
            + "  api:\n"
            + "    <<: *base\n"
            + "    replicas: 5\n"
            + "  both:\n"
            + "    <<: [{command: ./b, replicas: 3}, *base]\n";
    ParsedSpec p = parse(yaml);
    assertThat(p.errors()).isEmpty();
    dev.pilothouse.core.spec.Spec spec = p.spec().orElseThrow();
    assertThat(spec.service("copy").orElseThrow().command()).isEqualTo("./s");
    assertThat(spec.service("copy").orElseThrow().replicas()).isEqualTo(2);
    // the mapping's own keys win over merged ones; an earlier merged map over a later one
    assertThat(spec.service("api").orElseThrow().replicas()).isEqualTo(5);
    assertThat(spec.service("api").orElseThrow().command()).isEqualTo("./s");
    assertThat(spec.service("api").orElseThrow().env()).containsEntry("MODE", "fast");
    assertThat(spec.service("both").orElseThrow().command()).isEqualTo("./b");
    assertThat(spec.service("both").orElseThrow().replicas()).isEqualTo(3);
    assertThat(spec.service("both").orElseThrow().env()).containsEntry("MODE", "fast");
  }

  @Test
  void aCommandGivenAsAList_isTheProgramAndItsFirstArguments_asInComposeAndKubernetes() {
    String yaml =
        "services:\n"
            + "  shop:\n"
            + "    command: [java, -jar, '${HOME_DIR}/app.jar']\n"
            + "    args: [--port, '8080']\n";
    ParsedSpec p = parse(yaml);
    assertThat(p.errors()).isEmpty();
    var shop = p.spec().orElseThrow().service("shop").orElseThrow();
    assertThat(shop.command()).isEqualTo("java");
    assertThat(shop.args()).containsExactly("-jar", "/opt/home/app.jar", "--port", "8080");

    List<SpecError> empty = parse("services:\n  shop:\n    command: []\n").errors();
    assertThat(empty).extracting(SpecError::message).containsExactly("must not be empty");
    // one problem for one mistake: the item, not also an empty command
    List<SpecError> item = parse("services:\n  shop:\n    command: [java, [x]]\n").errors();
    assertThat(item).hasSize(1);
    assertThat(item.get(0).path()).isEqualTo("services.shop.command[1]");
  }

  @Test
  void aliasesThatExpandBeyondTheBound_orMergeAScalar_areRefusedWithTheirPlace() {
    // Ten levels of ten aliases each: 10^10 nodes from a dozen lines ("billion laughs").
    StringBuilder bomb = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i <= 10; i++) {
      bomb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 10; j++) {
        bomb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
      }
      bomb.append("]\n");
    }
    bomb.append(svc(""));
    SpecError e = parse(bomb.toString()).errors().get(0);
    assertThat(e.message()).contains("the aliases expand to more than 100000 nodes");
    assertThat(e.line()).isEqualTo(5); // the eighth alias of a3, in a4

    SpecError merge = parse(svc("    <<: 3\n")).errors().get(0);
    assertThat(merge.message()).contains("a merge key '<<' takes a map or a list of maps");
    assertThat(merge.line()).isEqualTo(4);
  }

  @Test
  void unknownField_suggestsNearestKnownName() {
    SpecError e = parse(svc("    replica: 3\n")).errors().get(0);
    assertThat(e.hint()).isEqualTo("did you mean 'replicas'?");
    SpecError f = parse(svc("    livenes:\n      tcp: true\n")).errors().get(0);
    assertThat(f.hint()).isEqualTo("did you mean 'liveness'?");
  }

  @Test
  void unknownField_farFromAnyName_listsKnownFields() {
    SpecError e = parse(svc("    zzzzzzzz: 3\n")).errors().get(0);
    assertThat(e.hint()).startsWith("known fields: command, args");
  }

  @Test
  void reportsEveryProblem_notJustTheFirst() {
    String yaml =
        "services:\n"
            + "  shop:\n"
            + "    command: ./s\n"
            + "    replicas: -2\n"
            + "    stop:\n"
            + "      signal: NOPE\n"
            + "  api:\n"
            + "    replica: 2\n";
    List<SpecError> errors = parse(yaml).errors();
    assertThat(errors)
        .extracting(SpecError::path)
        .containsExactlyInAnyOrder(
            "services.shop.replicas",
            "services.shop.stop.signal",
            "services.api.replica",
            "services.api.command");
    // a service's SLOs are checked even when another of its fields is wrong
    List<SpecError> withSlo =
        parse(
                svc(
                    "    replicas: -2\n"
                        + "    route: {pathPrefix: /}\n"
                        + "    slos: [{name: a, objective: 120}]\n"))
            .errors();
    assertThat(withSlo)
        .extracting(SpecError::path)
        .containsExactlyInAnyOrder("services.shop.replicas", "services.shop.slos[0].objective");
    // and a service with a problem still exists for those that name it
    List<SpecError> named =
        parse(
                svc("    replicas: -2\n")
                    + "  api:\n"
                    + "    command: ./api\n"
                    + "    deploy: {dependsOn: [shop]}\n")
            .errors();
    assertThat(named).extracting(SpecError::path).containsExactly("services.shop.replicas");
  }

  @Test
  void validSpec_readsEveryFieldWithDefaultsAndAliases() {
    String yaml =
        "version: 1\n"
            + "services:\n"
            + "  shop:\n"
            + "    command: ${HOME_DIR}/bin/shop\n"
            + "    args: [--port, '${PORT}', '$${LITERAL}']\n"
            + "    workdir: data\n"
            + "    version: v2\n"
            + "    replicas: 3\n"
            + "    env:\n"
            + "      MODE: fast\n"
            + "      THREADS: 4\n"
            + "    readiness:\n"
            + "      http: /readyz\n"
            + "      interval: 500ms\n"
            + "      success_threshold: 2\n"
            + "    liveness:\n"
            + "      exec: test -f alive\n"
            + "      initial-delay: 1m30s\n"
            + "    restart:\n"
            + "      policy: on-failure\n"
            + "      initialBackoff: 1s\n"
            + "      maxBackoff: 1m\n"
            + "      multiplier: 3\n"
            + "      jitter: 0\n"
            + "      maxRestarts: 2\n"
            + "    stop: {signal: SIGINT, timeout: 3s}\n"
            + "    resources: {cpu: 500m, memory: 256Mi}\n"
            + "  worker:\n"
            + "    command: sleep\n";
    ParsedSpec r = parse(yaml);
    assertThat(r.errors()).isEmpty();
    ServiceSpec s = r.spec().orElseThrow().service("shop").orElseThrow();
    assertThat(s.command()).isEqualTo("/opt/home/bin/shop");
    assertThat(s.args()).containsExactly("--port", "${PORT}", "${LITERAL}");
    assertThat(s.workdir()).isEqualTo("/srv/app/data");
    assertThat(s.version()).isEqualTo("v2");
    assertThat(s.replicas()).isEqualTo(3);
    assertThat(s.env()).containsEntry("MODE", "fast").containsEntry("THREADS", "4");
    assertThat(s.readiness().kind()).isEqualTo(Probe.Kind.HTTP);
    assertThat(s.readiness().interval()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.readiness().successThreshold()).isEqualTo(2);
    assertThat(s.readiness().failureThreshold()).isEqualTo(3);
    assertThat(s.liveness().command()).containsExactly("sh", "-c", "test -f alive");
    assertThat(s.liveness().initialDelay()).isEqualTo(Duration.ofSeconds(90));
    assertThat(s.restart().mode()).isEqualTo(RestartPolicy.Mode.ON_FAILURE);
    assertThat(s.restart().maxBackoff()).isEqualTo(Duration.ofMinutes(1));
    assertThat(s.restart().multiplier()).isEqualTo(3.0);
    assertThat(s.restart().maxRestarts()).isEqualTo(2);
    assertThat(s.stop().signal()).isEqualTo("INT");
    assertThat(s.stop().timeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.resources().cpu()).isEqualTo(0.5);
    assertThat(s.resources().memoryBytes()).isEqualTo(256L * 1024 * 1024);
    ServiceSpec w = r.spec().orElseThrow().service("worker").orElseThrow();
    assertThat(w.replicas()).isEqualTo(1);
    assertThat(w.workdir()).isEqualTo("/srv/app");
    assertThat(w.liveness()).isNull();
    assertThat(w.restart()).isEqualTo(RestartPolicy.defaults());
  }

  @Test
  void routeAndProxy_areRead() {
    String yaml =
        "proxy: {port: 9090, host: 0.0.0.0, accessLog: {sample: 0.1}, idleTimeout: 30s}\n"
            + svc(
                "    route:\n"
                    + "      host: shop.example.com\n"
                    + "      pathPrefix: /shop\n"
                    + "      strip_prefix: true\n"
                    + "      timeouts: {connect: 500ms, request: 5s}\n"
                    + "      retries: {attempts: 3, budget: 0.5}\n"
                    + "      rateLimit: {requestsPerSecond: 50, burst: 100}\n"
                    + "      loadBalancer: round-robin\n"
                    + "      limits: {maxConnections: 10, maxPending: 5, maxRequests: 20}\n"
                    + "      outlierDetection: {consecutiveFailures: 3, baseEjection: 5s, maxEjectedPercent: 30}\n"
                    + "      faults: {delay: 100ms, delayPercent: 10, abortStatus: 500, abortPercent: 1, header: x-chaos}\n");
    ParsedSpec r = parse(yaml);
    assertThat(r.errors()).isEmpty();
    var spec = r.spec().orElseThrow();
    assertThat(spec.proxy().port()).isEqualTo(9090);
    assertThat(spec.proxy().host()).isEqualTo("0.0.0.0");
    assertThat(spec.proxy().accessLogSample()).isEqualTo(0.1);
    var route = spec.services().get(0).route();
    assertThat(route.host()).isEqualTo("shop.example.com");
    assertThat(route.pathPrefix()).isEqualTo("/shop");
    assertThat(route.stripPrefix()).isTrue();
    assertThat(route.connectTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(route.retries()).isEqualTo(3);
    assertThat(route.requestsPerSecond()).isEqualTo(50.0);
    assertThat(route.loadBalancer()).isEqualTo("round-robin");
    assertThat(route.maxPending()).isEqualTo(5);
    assertThat(route.outlierFailures()).isEqualTo(3);
    assertThat(route.faults().abortStatus()).isEqualTo(500);
    assertThat(route.faults().header()).isEqualTo("x-chaos");
    assertThat(
            parse(svc("    route: /\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .route()
                .pathPrefix())
        .isEqualTo("/");
    assertThat(parse(svc("")).spec().orElseThrow().routed()).isFalse();
  }

  @Test
  void hardeningFields_areRead_withDefaults_andBadOnesLocated() {
    String yaml =
        "proxy:\n"
            + "  accessLog: {sample: 0.5, maxSize: 10Mi, keep: 3}\n"
            + "  trustedProxies: [10.0.0.0/8, 192.168.1.10]\n"
            + "  bodyTimeout: 5s\n"
            + "metrics:\n"
            + "  queryTimeout: 30s\n"
            + "  queryMaxConcurrency: 4\n"
            + "  futureTolerance: 1m\n"
            + "  labelLimit: 30\n"
            + "  labelNameLengthLimit: 100\n"
            + "  labelValueLengthLimit: 1000\n"
            + "  bodySizeLimit: 8Mi\n"
            + "  seriesPerRequest: 5000\n"
            + svc("    inheritEnv: [JAVA_HOME, AWS_REGION]\n");
    ParsedSpec r = parse(yaml);
    assertThat(r.errors()).isEmpty();
    var spec = r.spec().orElseThrow();
    assertThat(spec.proxy().accessLogMaxSize()).isEqualTo(10L << 20);
    assertThat(spec.proxy().accessLogKeep()).isEqualTo(3);
    assertThat(spec.proxy().trustedProxies()).containsExactly("10.0.0.0/8", "192.168.1.10");
    assertThat(spec.proxy().bodyTimeout()).isEqualTo(Duration.ofSeconds(5));
    var l = spec.metrics().limits();
    assertThat(l.queryTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(l.queryMaxConcurrency()).isEqualTo(4);
    assertThat(l.futureTolerance()).isEqualTo(Duration.ofMinutes(1));
    assertThat(List.of(l.labelLimit(), l.labelNameLengthLimit(), l.labelValueLengthLimit()))
        .containsExactly(30, 100, 1000);
    assertThat(l.bodySizeLimit()).isEqualTo(8L << 20);
    assertThat(l.seriesPerRequest()).isEqualTo(5000);
    assertThat(spec.services().get(0).inheritEnv()).containsExactly("JAVA_HOME", "AWS_REGION");

    var d = parse(svc("    inheritEnv: true\n")).spec().orElseThrow();
    assertThat(d.services().get(0).inheritEnv()).containsExactly("*");
    assertThat(d.metrics().limits()).isEqualTo(MetricsSpec.Limits.DEFAULTS);
    assertThat(d.proxy().bodyTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(d.proxy().accessLogMaxSize()).isEqualTo(100L << 20);
    assertThat(parse(svc("")).spec().orElseThrow().services().get(0).inheritEnv()).isEmpty();

    SpecError bad = parse("proxy: {trustedProxies: [not-an-ip]}\n" + svc("")).errors().get(0);
    assertThat(bad.path()).isEqualTo("proxy.trustedProxies[0]");
    assertThat(bad.toString()).contains("is not an IP address or CIDR block");
    SpecError env = parse(svc("    inheritEnv: [A-B]\n")).errors().get(0);
    assertThat(env.path()).isEqualTo("services.shop.inheritEnv");
    assertThat(parse("metrics: {bodySizeLimit: 1Ki}\n" + svc("")).errors().get(0).toString())
        .contains("metrics.bodySizeLimit")
        .contains("at least 4Ki");
  }

  static final String TEMPLATES =
      "analysisTemplates:\n"
          + "  error-ratio:\n"
          + "    args:\n"
          + "      - name: max\n"
          + "        value: '0.05'\n"
          + "      - name: window\n"
          + "    metrics:\n"
          + "      - name: errors\n"
          + "        promql: sum(rate(pilothouse_http_requests_total{service=\"{{args.service}}\",version=\"{{args.canaryVersion}}\",code=~\"5..\"}[{{args.window}}])) < {{args.max}}\n"
          + "        interval: 10s\n"
          + "        count: 6\n"
          + "        failureLimit: 1\n"
          + "        inconclusiveLimit: 2\n";

  static String templated(String use) {
    return TEMPLATES
        + svc(
            "    route: /\n    strategy:\n      type: canary\n      steps:\n        - weight: 10\n"
                + "        - analysis: "
                + use
                + "\n");
  }

  @Test
  void analysisTemplates_areBoundToTheirUsesArguments_withDefaults() {
    ParsedSpec r = parse(templated("{template: error-ratio, args: {window: 2m}}"));
    assertThat(r.errors()).isEmpty();
    var c = (Strategy.Canary) r.spec().orElseThrow().services().get(0).strategy();
    AnalysisTemplate.Use use = c.steps().get(1).template();
    assertThat(use.template()).isEqualTo("error-ratio");
    assertThat(use.args()).containsExactly(Map.entry("max", "0.05"), Map.entry("window", "2m"));
    AnalysisTemplate.Metric m = use.metrics().get(0);
    assertThat(m.target())
        .isEqualTo(
            "sum(rate(pilothouse_http_requests_total{service=\"{{args.service}}\","
                + "version=\"{{args.canaryVersion}}\",code=~\"5..\"}[2m])) < 0.05");
    assertThat(m)
        .extracting("interval", "count", "failureLimit", "inconclusiveLimit")
        .containsExactly(Duration.ofSeconds(10), 6, 1, 2);
    assertThat(use.forRollout("shop", "v2", "v1").get(0).target())
        .contains("service=\"shop\",version=\"v2\"");
  }

  static Stream<Arguments> badTemplates() {
    return Stream.of(
        Arguments.of(
            "unknown template",
            templated("{template: error-ration, args: {window: 1m}}"),
            "services.shop.strategy.steps[1].analysis.template",
            "no analysis template named 'error-ration'",
            "did you mean 'error-ratio'?"),
        Arguments.of(
            "missing argument",
            templated("{template: error-ratio}"),
            "services.shop.strategy.steps[1].analysis.args",
            "template 'error-ratio' needs the argument 'window'",
            "give each argument"),
        Arguments.of(
            "unknown argument",
            templated("{template: error-ratio, args: {window: 1m, limit: 3}}"),
            "services.shop.strategy.steps[1].analysis.args",
            "template 'error-ratio' has no argument 'limit'; it takes max, window",
            "give each argument"),
        Arguments.of(
            "argument that breaks the query",
            templated("{template: error-ratio, args: {window: soon}}"),
            "services.shop.strategy.steps[1].analysis.args",
            "with these arguments, metric 'errors' is invalid PromQL",
            "give values that fit"),
        Arguments.of(
            "undeclared reference",
            TEMPLATES.replace("{{args.max}}", "{{args.limit}}") + svc("    route: /\n"),
            "analysisTemplates.error-ratio.metrics[0].promql",
            "refers to {{args.limit}}, which the template does not declare",
            "declare it under 'args:'"),
        Arguments.of(
            "declared built-in",
            TEMPLATES.replace("name: window", "name: service") + svc("    route: /\n"),
            "analysisTemplates.error-ratio.args[1].name",
            "'service' is given by every rollout",
            "use it as {{args.service}}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badTemplates")
  void badTemplatesAndUses_areReportedWhereTheyAre(
      String name, String yaml, String path, String message, String hint) {
    ParsedSpec r = parse(yaml);
    assertThat(r.valid()).isFalse();
    assertThat(r.errors())
        .anySatisfy(
            e -> {
              assertThat(e.path()).isEqualTo(path);
              assertThat(e.message()).startsWith(message);
              assertThat(e.hint()).startsWith(hint);
              assertThat(e.line()).isPositive();
            });
  }

  static String experiment(String body) {
    return svc("    route: /\n") + "experiments:\n  checkout:\n" + body;
  }

  static final String TWO_VARIANTS =
      "    variants:\n"
          + "      - {name: control, weight: 50}\n"
          + "      - {name: green, weight: 50, version: v2, env: {BUTTON: green}}\n";

  @Test
  void experiments_areRead_withTheirVariantsRunningAsServicesOfTheirOwn() {
    ParsedSpec r =
        parse(
            experiment(
                "    service: shop\n"
                    + TWO_VARIANTS
                    + "    assignBy: {header: x-user}\n    minSamples: 1000\n"
                    + "    metrics:\n"
                    + "      - {name: conversion, promql: 'sum(increase(orders_total{job=\"{{service}}\"}[{{window}}]))'}\n"));
    assertThat(r.errors()).isEmpty();
    var spec = r.spec().orElseThrow();
    var e = spec.experiment("checkout").orElseThrow();
    assertThat(e.assignBy()).isEqualTo("header:x-user");
    assertThat(e.minSamples()).isEqualTo(1000);
    assertThat(e.variants()).extracting("name").containsExactly("control", "green");
    var running = spec.withVariants();
    var green = running.service("shop--green").orElseThrow();
    assertThat(green.version()).isEqualTo("v2");
    assertThat(green.env()).containsEntry("BUTTON", "green");
    assertThat(green.route()).isNull();
  }

  static Stream<Arguments> badExperiments() {
    return Stream.of(
        Arguments.of(
            "unknown service",
            experiment("    service: shoe\n" + TWO_VARIANTS + "    duration: 1h\n"),
            "experiments.checkout.service",
            "no service named 'shoe'"),
        Arguments.of(
            "no control",
            experiment(
                "    service: shop\n    variants:\n      - {name: a, weight: 50, version: v1}\n"
                    + "      - {name: b, weight: 50, version: v2}\n    duration: 1h\n"),
            "experiments.checkout.variants",
            "no control: every variant has a version"),
        Arguments.of(
            "weights not adding to 100",
            experiment(
                "    service: shop\n    variants:\n      - {name: control, weight: 50}\n"
                    + "      - {name: b, weight: 30, version: v2}\n    duration: 1h\n"),
            "experiments.checkout.variants",
            "the variants' weights add up to 80, not 100"),
        Arguments.of(
            "too many variants",
            experiment(
                "    service: shop\n    duration: 1h\n    variants:\n"
                    + "      - {name: control, weight: 0}\n"
                    + java.util.stream.IntStream.range(0, 10)
                        .mapToObj(
                            i -> "      - {name: v" + i + ", weight: 10, version: v" + i + "}\n")
                        .collect(java.util.stream.Collectors.joining())),
            "experiments.checkout.variants",
            "has 11 entries; at most 10 are allowed"),
        Arguments.of(
            "never concludes",
            experiment("    service: shop\n" + TWO_VARIANTS),
            "experiments.checkout",
            "the experiment would never conclude"),
        Arguments.of(
            "bad metric",
            experiment(
                "    service: shop\n"
                    + TWO_VARIANTS
                    + "    duration: 1h\n    metrics:\n      - {name: m, promql: 'sum(('}\n"),
            "experiments.checkout.metrics[0].promql",
            "invalid PromQL"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badExperiments")
  void badExperiments_areReportedWhereTheyAre(
      String name, String yaml, String path, String message) {
    ParsedSpec r = parse(yaml);
    assertThat(r.valid()).isFalse();
    assertThat(r.errors())
        .anySatisfy(
            e -> {
              assertThat(e.path()).isEqualTo(path);
              assertThat(e.message()).startsWith(message);
            });
  }

  @Test
  void deployPathsAndHook_takeVariables_andAnUnsetOneIsReportedThere() {
    ParsedSpec ok =
        parse(
            svc(
                "    deploy:\n      dataPaths: [\"${HOME_DIR}/shop.db\"]\n"
                    + "      preDeploy: ${HOME_DIR}/bin/migrate expand\n"));
    assertThat(ok.errors()).isEmpty();
    DeploySpec d = ok.spec().orElseThrow().services().get(0).deploy();
    assertThat(d.dataPaths()).containsExactly("/opt/home/shop.db");
    assertThat(d.preDeploy()).isEqualTo("/opt/home/bin/migrate expand");
    ParsedSpec bad = parse(svc("    deploy:\n      preDeploy: ${NOPE}/migrate\n"));
    assertThat(bad.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("services.shop.deploy.preDeploy");
              assertThat(e.message()).isEqualTo("variable ${NOPE} is not set");
            });
  }

  @Test
  void autoSizedCanary_isRead_withMaxSurgeAsItsBound() {
    var auto =
        (Strategy.Canary)
            parse(
                    svc(
                        "    route: /\n    strategy:\n      type: canary\n"
                            + "      canaryReplicas: auto\n      maxSurge: 50%\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .strategy();
    assertThat(auto.autoSurge()).isEqualTo(new Strategy.Amount(50, true));
    assertThat(auto.canaryReplicas(4, 10)).isEqualTo(1);
    assertThat(auto.canaryReplicas(4, 40)).isEqualTo(2);
    assertThat(auto.canaryReplicas(4, 100)).as("capped at 50 %% of 4").isEqualTo(2);
    var unbounded =
        (Strategy.Canary)
            parse(
                    svc(
                        "    route: /\n    strategy:\n      type: canary\n      canaryReplicas: auto\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .strategy();
    assertThat(unbounded.canaryReplicas(4, 100)).isEqualTo(4);
    assertThat(unbounded.canaryReplicas(4, 0)).isEqualTo(1);
  }

  @Test
  void canaryStrategy_isRead_withDefaultsForTheRest() {
    String yaml =
        svc(
            "    route: /\n"
                + "    strategy:\n"
                + "      type: canary\n"
                + "      canaryReplicas: 2\n"
                + "      steps:\n"
                + "        - weight: 20\n"
                + "        - analysis: 1m\n"
                + "        - pause: manual\n"
                + "        - pause: 10s\n"
                + "      match: [{header: x-canary, value: '1'}, {cookie: beta}]\n"
                + "      analysis: {alpha: 0.01, minRequests: 200, maxLatencyIncrease: 20ms}\n");
    ParsedSpec r = parse(yaml);
    assertThat(r.errors()).isEmpty();
    var c = (Strategy.Canary) r.spec().orElseThrow().services().get(0).strategy();
    assertThat(c.canaryReplicas()).isEqualTo(2);
    assertThat(c.steps())
        .containsExactly(
            dev.pilothouse.core.spec.Strategy.Step.weight(20),
            dev.pilothouse.core.spec.Strategy.Step.analysis(Duration.ofMinutes(1)),
            dev.pilothouse.core.spec.Strategy.Step.pause(null),
            dev.pilothouse.core.spec.Strategy.Step.pause(Duration.ofSeconds(10)));
    assertThat(c.match())
        .containsExactly(
            new dev.pilothouse.core.spec.Strategy.MatchRule("header", "x-canary", "1"),
            new dev.pilothouse.core.spec.Strategy.MatchRule("cookie", "beta", "*"));
    assertThat(
            ((Strategy.Canary)
                    parse(
                            svc(
                                "    route: /\n    strategy:\n      type: canary\n      match:\n"
                                    + "        - {header: x-user, prefix: beta-}\n"
                                    + "        - {cookie: team, regex: '(ops|sre)'}\n"))
                        .spec()
                        .orElseThrow()
                        .services()
                        .get(0)
                        .plan())
                .match())
        .containsExactly(
            new Strategy.MatchRule("header", "x-user", "beta-", "prefix"),
            new Strategy.MatchRule("cookie", "team", "(ops|sre)", "regex"));
    assertThat(c.analysis())
        .as("unset thresholds keep their defaults")
        .isEqualTo(new Strategy.Analysis(0.01, 200, 0.01, 20.0, 0.10));
    assertThat(c.progressDeadline()).isEqualTo(Duration.ofMinutes(10));
    assertThat(
            parse(svc("    route: /\n    strategy: {type: canary}\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .strategy())
        .isInstanceOfSatisfying(Strategy.Canary.class, d -> assertThat(d.steps()).hasSize(4));
    assertThat(
            parse(svc("    strategy: {type: rolling}\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .plan())
        .isEqualTo(Strategy.rolling());
  }

  @Test
  void flags_areRead_andTheirProblemsReportedAtTheirLine() {
    ParsedSpec ok =
        parse(
            "flags:\n"
                + "  new-checkout:\n"
                + "    default: off\n"
                + "    rules:\n"
                + "      - {name: staff, when: [{attribute: email, op: endsWith, values: ['@example.com']}], variant: on}\n"
                + "      - {name: rollout, split: {on: 10, off: 90}}\n"
                + "  banner:\n"
                + "    type: string\n"
                + "    variants: {plain: 'Welcome', sale: 'Sale!'}\n"
                + "    default: plain\n"
                + "    enabled: false\n"
                + svc(""));
    assertThat(ok.errors()).isEmpty();
    var flags = ok.spec().orElseThrow().flags();
    assertThat(flags)
        .extracting(dev.pilothouse.core.flags.Flag::key)
        .containsExactly("new-checkout", "banner");
    assertThat(flags.get(0).variants()).containsEntry("on", true).containsEntry("off", false);
    assertThat(flags.get(0).rules().get(1).split()).containsEntry("on", 10);
    assertThat(flags.get(1).enabled()).isFalse();
    ParsedSpec bad =
        parse(
            "flags:\n"
                + "  new-checkout:\n"
                + "    default: maybe\n"
                + "    rules:\n"
                + "      - {split: {on: 60, off: 50}}\n"
                + svc(""));
    assertThat(bad.errors())
        .anySatisfy(
            e ->
                assertThat(e.toString())
                    .contains(":3:5: flags.new-checkout.default: no variant named 'maybe'"))
        .anySatisfy(
            e ->
                assertThat(e.toString())
                    .contains(
                        "flags.new-checkout.rules[0].split: the percentages add up to 110, not"
                            + " 100"));
  }

  @Test
  void gates_areRead_withTheirTypesAndDefaults() {
    var c =
        (Strategy.Canary)
            parse(
                    svc(
                        "    route: /\n"
                            + "    strategy:\n"
                            + "      type: canary\n"
                            + "      gates:\n"
                            + "        - {type: confirm-promotion, url: 'http://127.0.0.1:9000/ok',"
                            + " name: approve, timeout: 3s}\n"
                            + "        - {type: rollback, url: 'https://ops.example/stop'}\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .plan();
    assertThat(c.gates())
        .containsExactly(
            new Strategy.Gate(
                "approve",
                Strategy.Gate.Type.CONFIRM_PROMOTION,
                "http://127.0.0.1:9000/ok",
                Duration.ofSeconds(3)),
            new Strategy.Gate(
                "rollback-2",
                Strategy.Gate.Type.ROLLBACK,
                "https://ops.example/stop",
                Duration.ofSeconds(10)));
  }

  @Test
  void blueGreenRollingAndDeploySections_areRead() {
    String yaml =
        "services:\n"
            + "  db:\n    command: ./db\n"
            + "  shop:\n"
            + "    command: ./server\n"
            + "    replicas: 4\n"
            + "    route: /\n"
            + "    strategy:\n"
            + "      type: blue-green\n"
            + "      rollbackWindow: 2m\n"
            + "      smoke:\n"
            + "        - {path: /health, body: ok, maxLatency: 300ms}\n"
            + "        - {path: /orders, method: post, status: 201}\n"
            + "    deploy:\n"
            + "      artifact: app.jar\n"
            + "      sha256: "
            + "AB".repeat(32)
            + "\n"
            + "      dependsOn: [db]\n"
            + "      minFreeDisk: 2Gi\n"
            + "      dataPaths: [data]\n"
            + "      preDeploy: ./dump.sh\n"
            + "      keepBackups: 3\n"
            + "      freeze:\n"
            + "        - {start: '2026-12-24T00:00:00Z', end: '2026-12-27T00:00:00Z', reason: xmas}\n"
            + "        - {days: [fri], from: '16:00', timezone: Europe/Berlin}\n";
    ParsedSpec r = SpecParser.parse("shop.yaml", yaml, Path.of("/srv/app"), Map.of());
    assertThat(r.errors()).isEmpty();
    ServiceSpec s = r.spec().orElseThrow().service("shop").orElseThrow();
    var p = (Strategy.BlueGreen) s.plan();
    assertThat(p.kind()).isEqualTo(Strategy.Kind.BLUE_GREEN);
    assertThat(p.canaryReplicas()).as("a full set").isEqualTo(4);
    assertThat(p.rollbackWindow()).hasMinutes(2);
    assertThat(p.watch()).as("the rollback window is watched").hasMinutes(2);
    assertThat(p.analysis()).isEqualTo(Strategy.Analysis.DEFAULT);
    assertThat(p.smoke())
        .containsExactly(
            new Strategy.SmokeTest("GET", "/health", 200, "ok", Duration.ofMillis(300)),
            new Strategy.SmokeTest("POST", "/orders", 201, "", Duration.ofSeconds(2)));
    var canary =
        (Strategy.Canary)
            parse(
                    svc(
                        "    route: /\n"
                            + "    strategy:\n"
                            + "      type: canary\n"
                            + "      checks:\n"
                            + "        - {name: queue, command: ./check-queue.sh, timeout: 10s}\n"
                            + "        - {webhook: 'http://127.0.0.1:9000/judge'}\n"
                            + "      load: {rate: 20, path: /ping}\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .plan();
    assertThat(canary.checks())
        .containsExactly(
            new Strategy.Check("queue", "command", "./check-queue.sh", Duration.ofSeconds(10)),
            new Strategy.Check(
                "webhook-2", "webhook", "http://127.0.0.1:9000/judge", Duration.ofSeconds(30)));
    assertThat(canary.load()).isEqualTo(new Strategy.Load(20, "/ping"));
    DeploySpec d = s.deploy();
    assertThat(d.artifact()).isEqualTo("/srv/app/app.jar");
    assertThat(d.sha256()).isEqualTo("ab".repeat(32));
    assertThat(d.dependsOn()).containsExactly("db");
    assertThat(d.minFreeDisk()).isEqualTo(2L << 30);
    assertThat(d.dataPaths()).containsExactly("/srv/app/data");
    assertThat(d.preDeploy()).isEqualTo("./dump.sh");
    assertThat(d.keepBackups()).isEqualTo(3);
    assertThat(d.freeze()).hasSize(2);
    assertThat(d.freeze().get(0).covers(Instant.parse("2026-12-25T12:00:00Z"))).isTrue();
    assertThat(d.freeze().get(0).covers(Instant.parse("2026-12-27T00:00:00Z"))).isFalse();
    // Friday 2026-11-27, 16:30 in Berlin is 15:30 UTC; 14:30 UTC is 15:30 in Berlin.
    assertThat(d.freeze().get(1).covers(Instant.parse("2026-11-27T15:30:00Z"))).isTrue();
    assertThat(d.freeze().get(1).covers(Instant.parse("2026-11-27T14:30:00Z"))).isFalse();
    assertThat(d.freeze().get(1).covers(Instant.parse("2026-11-28T10:00:00Z"))).isFalse();

    ServiceSpec rolling =
        parse(
                svc(
                    "    replicas: 8\n    strategy: {type: rolling, maxSurge: 25%, maxUnavailable: 1}\n"))
            .spec()
            .orElseThrow()
            .services()
            .get(0);
    assertThat(rolling.plan().replacement().maxSurge().resolve(8, true)).isEqualTo(2);
    assertThat(rolling.plan().replacement().maxUnavailable().resolve(8, false)).isEqualTo(1);
  }

  @Test
  void notifications_areRead_andBadOnesReported() {
    String ok =
        "notifications:\n"
            + "  webhooks: [https://hooks.example.com/a]\n"
            + "  slack: ['https://hooks.slack.com/services/x']\n"
            + "  email: {smtp: 'localhost:2525', from: ph@example.com, to: [oncall@example.com]}\n"
            + svc("");
    var n = parse(ok).spec().orElseThrow().notifications();
    assertThat(n.webhooks()).containsExactly("https://hooks.example.com/a");
    assertThat(n.slack()).hasSize(1);
    assertThat(n.smtp()).isEqualTo("localhost:2525");
    assertThat(n.to()).containsExactly("oncall@example.com");
    assertThat(n.events()).contains("RolloutRolledBack", "RolloutPromoted");
    SpecError e = parse("notifications: {webhooks: [ftp://x]}\n" + svc("")).errors().get(0);
    assertThat(e.toString())
        .isEqualTo(
            "shop.yaml:1:28: notifications.webhooks[0]: 'ftp://x' is not an http(s) URL (write e.g. https://hooks.example.com/…)");
    SpecError f = parse("notifications: {email: {smtp: nope}}\n" + svc("")).errors().get(0);
    assertThat(f.path()).isEqualTo("notifications.email.smtp");
    assertThat(f.message()).isEqualTo("invalid SMTP server 'nope'");
  }

  @Test
  void restartMayBeGivenAsPolicyName() {
    ServiceSpec s = parse(svc("    restart: never\n")).spec().orElseThrow().services().get(0);
    assertThat(s.restart().mode()).isEqualTo(RestartPolicy.Mode.NEVER);
  }

  @Test
  void referencedVariables_listsNamesExceptPortAndLiterals() {
    assertThat(SpecParser.referencedVariables("a ${X} ${PORT} $${Y} ${Z_1}"))
        .containsExactly("X", "Z_1");
  }

  @Test
  void templateChangesWithCommandButNotWithReplicas() {
    ServiceSpec a = parse(svc("    replicas: 1\n")).spec().orElseThrow().services().get(0);
    ServiceSpec b = parse(svc("    replicas: 4\n")).spec().orElseThrow().services().get(0);
    ServiceSpec c = parse(svc("    env: {A: b}\n")).spec().orElseThrow().services().get(0);
    assertThat(a.template()).isEqualTo(b.template());
    assertThat(a.template()).isNotEqualTo(c.template());
  }
}
