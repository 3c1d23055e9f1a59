"""Templates as lb's configuration (DESIGN.md §16): CloudFormation YAML with short forms and
JSON, SAM (Globals, CodeUri, InlineCode, AutoPublishAlias), and a cloud assembly synthesized
here by a real CDK app (tests/stack/cdk, aws-cdk-lib installed with npm ci from the committed
lock). Each is served with --port-map 80=0 and answers requests; `lb check` and `lb explain`
read them; errors name the template's file, line and column.

Inline code goes to $TMPDIR, which each test points at its own temporary directory.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from lbtest import ROOT, Lb, LbTestCase, LB_BIN

STACK = os.path.join(ROOT, "tests", "stack")
ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
CDK_DIR = os.path.join(STACK, "cdk")
_cdk_lock = threading.Lock()


class StackLb(Lb):
    """An lb serving a template (or cdk.out) copied into its temporary directory."""

    def __init__(self, source, name, args=(), listeners=1):
        super().__init__(config="", args=args, access_log=False)
        dest = os.path.join(self.dir, "stack")
        if os.path.isdir(source):
            shutil.copytree(source, dest)
        else:
            os.makedirs(dest)
            shutil.copy(source, dest)
        self.config_path = os.path.join(dest, name)
        self.env = {"TMPDIR": self.dir}
        self.nlisteners = listeners

    def expected_listeners(self):
        return self.nlisteners

    def json(self, path, headers=()):
        r = self.get(path, headers=headers)
        assert r.status == 200, r
        return json.loads(r.body)


def serve(test, lb):
    """Starts lb for the test; it is stopped and its directory removed at the test's end."""
    lb.start()
    test.addCleanup(lb.tmp.cleanup)
    test.addCleanup(lb.stop)
    return lb


def assert_routes(test, lb, *routes):
    """Each (path, status, body) is what lb answers a GET of path."""
    for path, status, body in routes:
        r = lb.get(path)
        test.assertEqual((path, r.status, r.body), (path, status, body))


def lb_run(*args, tmpdir):
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.run([LB_BIN] + list(args), capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def ensure_cdk():
    """npm ci into tests/stack/cdk unless node_modules already matches the lock."""
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(CDK_DIR, name), "rb") as f:
            h.update(f.read())
    want = h.hexdigest()
    marker = os.path.join(CDK_DIR, "node_modules", ".lb-installed")

    def installed():
        try:
            with open(marker) as f:
                return f.read().strip() == want
        except OSError:
            return False

    with _cdk_lock:
        if installed():
            return
        with open(os.path.join(CDK_DIR, ".install.lock"), "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            if installed():
                return
            p = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund",
                                "--loglevel=error"], cwd=CDK_DIR, capture_output=True,
                               text=True, timeout=900)
            if p.returncode != 0:
                raise AssertionError("npm ci in tests/stack/cdk failed:\n" + (p.stdout + p.stderr)[-3000:])
            with open(marker, "w") as f:
                f.write(want + "\n")


def write_assembly(tmp, stacks):
    """A CDK 2 cloud assembly (cdk.out) of the (name, template) stacks, in order."""
    out = os.path.join(tmp, "cdk.out")
    os.makedirs(out)
    arts = {}
    for name, doc in stacks:
        arts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                      "properties": {"templateFile": name + ".template.json",
                                     "validateOnSynth": False}, "displayName": name}
        with open(os.path.join(out, name + ".template.json"), "w") as f:
            json.dump(doc, f, indent=1)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"version": "36.0.0", "artifacts": arts}, f, indent=1)
    return out


def json_pos(path, needle):
    """'path:LINE:COL' of the first key needle (a JSON string with its quotes) in path."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return "%s:%d:%d" % (path, i, line.index(needle) + 1)
    raise AssertionError("%s not in %s" % (needle, path))


class CloudFormationTests(LbTestCase):
    TEMPLATE = os.path.join(STACK, "cfn", "template.yaml")

    def serve(self, *args):
        lb = StackLb(self.TEMPLATE, "template.yaml", args=["--port-map", "80=0"] + list(args))
        serve(self, lb)
        return lb

    def test_intrinsics_resolve_into_the_functions_environment(self):
        lb = self.serve()
        body = lb.json("/api/users")
        self.assertEqual(body, {
            "STAGE": "dev", "BANNER": "dev-banner", "REGION": "us-east-1/123456789012",
            "JOINED": "hello-b", "ONLY_PROD": None, "TABLE": "Table", "LITERAL": "${NotAVar}",
            "ENCODED": "aGVsbG8=", "AZ": "us-east-1a",
            # a listener's ARN is built on its load balancer's name and id, a rule's on its listener's
            "LISTENER": ELB + "listener/app/LB/09195e07b5af56ab/20b489b8dac5ddb1",
            "RULE": ELB + "listener-rule/app/LB/09195e07b5af56ab/20b489b8dac5ddb1/14df102e44cad40e",
            "AWS_LAMBDA_FUNCTION_VERSION": "1", "path": "/api/users"})
        # !Ref of a CommaDelimitedList parameter gives the path patterns
        self.assertEqual(lb.json("/v1/x")["path"], "/v1/x")

    def test_parameters_and_pseudo_parameters_from_the_command_line(self):
        lb = self.serve("--parameter", "Greeting=howdy", "--parameter", "AWS::Region=eu-west-1")
        body = lb.json("/api/x")
        self.assertEqual(body["JOINED"], "howdy-b")
        self.assertEqual(body["REGION"], "eu-west-1/123456789012")
        self.assertEqual(body["AZ"], "eu-west-1a")

    def test_fixed_response_redirect_and_default_rule(self):
        lb = self.serve()
        r = lb.get("/nothing")
        self.assertEqual((r.status, r.body), (404, b"no route (dev)"))
        r = lb.get("/?health=1")
        self.assertEqual((r.status, r.body), (200, b"dev-ok"))   # !If on !And/!Or/!Not
        r = lb.get("/?health=1", method="POST")
        self.assertEqual(r.status, 404)                          # method condition
        r = lb.get("/a?b=1", host="old.example.com")
        self.assertEqual(r.status, 301)
        # #{port} is the port the request came in on: the mapped one
        self.assertEqual(r.header("Location"), f"http://new.example.com:{lb.port}/a?b=1")

    def test_weighted_forward_to_an_alias_and_to_latest(self):
        lb = self.serve()
        self.assertEqual(lb.get("/weighted").status, 404)        # the header condition fails
        seen = set()
        for _ in range(40):
            seen.add(lb.json("/weighted", headers=["X-Env: beta"])["AWS_LAMBDA_FUNCTION_VERSION"])
        self.assertTrue(seen <= {"1", "$LATEST"} and seen, seen)

    def test_check_lists_the_graph_and_the_skipped_resources(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", self.TEMPLATE, tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertIn("10 path_pattern: /api/*, /v1/* -> forward to api-dev", out)
        self.assertIn("forward to api-dev (weight 3), LatestTargets (weight 1)", out)
        self.assertIn("target group api-dev: lambda, single-value headers, target api-dev:live", out)
        self.assertIn("alias live -> 1", out)
        self.assertIn("listener port 80 serves on 8080 (--port-map 80=PORT to choose)", err)
        self.assertIn("not emulated, skipped: attribute deletion_protection.enabled, "
                      "ApiRole (AWS::IAM::Role), Table (AWS::DynamoDB::Table)", err)

    def test_a_port_map_or_parameter_that_does_nothing_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, _, err = lb_run("check", "-c", self.TEMPLATE, "--port-map", "8080=0", tmpdir=tmp)
            self.assertEqual(code, 1)
            self.assertIn("--port-map 8080=0: " + self.TEMPLATE + " has no listener on port 8080", err)
            demo = os.path.join(ROOT, "config", "lb.yaml")
            code, _, err = lb_run("check", "-c", demo, "--port-map", "8080=0", tmpdir=tmp)
            self.assertEqual(code, 1)
            self.assertIn("--port-map applies to a template", err)

    def test_a_condition_turns_on_a_resource_whose_error_names_the_position(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, _, err = lb_run("check", "-c", self.TEMPLATE, "--parameter", "Stage=prod",
                                  tmpdir=tmp)
        self.assertEqual(code, 1)
        self.assertRegex(err, r"template\.yaml:\d+:\d+: Fn::GetAtt names 'NoSuchThing', "
                              r"which is not a resource")

    def test_allowed_values_are_enforced(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, _, err = lb_run("check", "-c", self.TEMPLATE, "--parameter", "Stage=qa",
                                  tmpdir=tmp)
        self.assertEqual(code, 1)
        self.assertIn("parameter 'Stage' is 'qa', not one of its AllowedValues", err)

    def test_explain_reads_the_template(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("explain", "-c", self.TEMPLATE, "-H", "X-Env: beta",
                                    "http://127.0.0.1:8080/weighted", tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertIn("matched: rule 20", out)


class SamTests(LbTestCase):
    def serve(self):
        lb = StackLb(os.path.join(STACK, "sam"), "template.yaml", args=["-p", "0"])
        serve(self, lb)
        return lb

    def test_auto_publish_alias_globals_and_code_uri(self):
        lb = self.serve()
        body = lb.json("/anything")
        self.assertEqual(body["fn"], "Hello")
        self.assertEqual(body["version"], "1")
        self.assertEqual(body["arn"], "arn:aws:lambda:us-east-1:123456789012:function:Hello:live")
        self.assertEqual(body["fromGlobals"], "yes")
        self.assertEqual(body["overridden"], "function")   # the function's map wins
        r = lb.get("/inline")   # InlineCode importing a module of a SAM layer (ContentUri)
        self.assertEqual((r.status, r.body), (200, b"inline Inline from-layer"))


    def test_a_layer_published_on_aws_is_named_and_left_out(self):
        # Why: real templates name AWS's public layers by ARN (Powertools, Lambda
        # Insights); lb refused the template. Now the function runs with its local
        # layers only, and the one lb cannot fetch is named.
        powertools = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:46"
        lb = StackLb(os.path.join(STACK, "sam"), "template.yaml", args=["-p", "0"])
        with open(lb.config_path) as f:
            text = f.read()
        with open(lb.config_path, "w") as f:
            f.write(text.replace("Layers: [!Ref Greet]", "Layers:\n        - " + powertools +
                                 "\n        - !Ref Greet"))
        serve(self, lb)
        r = lb.get("/inline")
        self.assertEqual((r.status, r.body), (200, b"inline Inline from-layer"))
        self.assertIn("template.yaml:25:11: layer '%s' is not in this template, and lb cannot "
                      "fetch it from AWS: function 'Inline' runs without it (nothing of it "
                      "under /opt)" % powertools, lb.stderr())

    def test_anchors_and_merge_keys_resolve_as_sam_cli_resolves_them(self):
        # Why: `sam deploy` and `aws cloudformation package` unroll YAML anchors and
        # merge keys before CloudFormation sees the template; lb refused the anchor.
        lb = StackLb(os.path.join(STACK, "sam"), "template.yaml", args=["-p", "0"])
        with open(lb.config_path) as f:
            text = f.read()
        text = text.replace("Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n"
                            "    Properties:\n      CodeUri: hello/\n      Handler: index.handler\n",
                            "Metadata:\n  Defaults:\n    Node: &node\n      CodeUri: hello/\n"
                            "      Handler: index.handler\n      Timeout: 9000\n"
                            "Resources:\n  Hello:\n    Type: AWS::Serverless::Function\n"
                            "    Properties:\n      <<: *node\n      Timeout: 10\n")
        text += ("  Second:\n    Type: AWS::Serverless::Function\n"
                 "    Properties: {<<: *node, Timeout: 5}\n"
                 "  SecondGroup:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n"
                 "    Properties: {TargetType: lambda, Targets: [{Id: !GetAtt Second.Arn}]}\n"
                 "  SecondRule:\n    Type: AWS::ElasticLoadBalancingV2::ListenerRule\n"
                 "    Properties:\n      ListenerArn: !Ref Listener\n      Priority: 6\n"
                 "      Conditions: [{Field: path-pattern, Values: [/second]}]\n"
                 "      Actions: [{Type: forward, TargetGroupArn: !Ref SecondGroup}]\n")
        with open(lb.config_path, "w") as f:
            f.write(text)
        serve(self, lb)
        body = lb.json("/anything")
        self.assertEqual((body["fn"], body["version"], body["fromGlobals"]), ("Hello", "1", "yes"))
        body = lb.json("/second")
        self.assertEqual((body["fn"], body["version"], body["path"]), ("Second", "$LATEST", "/second"))

    def test_sighup_reads_the_edited_template(self):
        lb = self.serve()
        self.assertEqual(lb.json("/x")["fromGlobals"], "yes")
        with open(lb.config_path) as f:
            text = f.read()
        with open(lb.config_path, "w") as f:
            f.write(text.replace('FROM_GLOBALS: "yes"', 'FROM_GLOBALS: "reloaded"'))
        lb.signal(signal.SIGHUP)
        deadline = time.time() + 20
        while time.time() < deadline and lb.json("/x")["fromGlobals"] != "reloaded":
            time.sleep(0.1)
        self.assertEqual(lb.json("/x")["fromGlobals"], "reloaded")


class CdkTests(LbTestCase):
    def synth(self, tmp, *extra):
        ensure_cdk()
        out = os.path.join(tmp, "cdk.out")
        p = subprocess.run(["node", os.path.join(CDK_DIR, "app.js"), out] + list(extra),
                           capture_output=True, text=True, timeout=300, cwd=CDK_DIR)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        return out

    def serve_assembly(self, *extra):
        tmp = tempfile.mkdtemp(prefix="lbcdk-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = self.synth(tmp, *extra)
        lb = StackLb(out, ".", args=["--port-map", "80=0"])
        lb.config_path = os.path.dirname(lb.config_path) if lb.config_path.endswith("/.") else lb.config_path
        serve(self, lb)
        return lb

    def check_routes(self, lb):
        body = lb.json("/anything")
        self.assertEqual((body["version"], body["greeting"]), ("$LATEST", "hi"))
        self.assertTrue(body["fn"].startswith("Hello"), body)
        self.assertEqual(lb.json("/live/x")["version"], "1")
        r = lb.get("/health")
        self.assertEqual((r.status, r.body), (200, b"ok"))
        r = lb.get("/inline")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.startswith(b"inline Inline"), r.body)

    def check_layer(self, lb):
        r = lb.get("/layer")
        self.assertEqual((r.status, r.body), (200, b"from the layer"))

    def test_a_synthesized_cloud_assembly_serves(self):
        lb = self.serve_assembly("--layer")
        self.check_routes(lb)
        self.check_layer(lb)

    def test_without_asset_metadata_the_staged_asset_is_found(self):
        # Why: a layer's Content.S3Key is its asset's key as a function's Code.S3Key is;
        # lb refused the layer as content in S3.
        lb = self.serve_assembly("--no-asset-metadata", "--layer")
        self.check_routes(lb)
        self.check_layer(lb)

    def test_a_stage_is_a_nested_assembly_whose_assets_are_in_the_root(self):
        self.check_routes(self.serve_assembly("--stage"))

    def test_a_stage_without_asset_metadata_finds_its_assets_in_the_assets_manifest(self):
        # Why: a Stage's template is in cdk.out/assembly-Dev/ and its assets in cdk.out/;
        # lb looked for asset.HASH beside the template and could not access it. The
        # stack's assets manifest names the asset of the S3Key's hash: ../asset.HASH.
        lb = self.serve_assembly("--stage", "--no-asset-metadata", "--layer")
        r = lb.get("/anything")
        self.assertEqual((r.status, r.body),
                         (200, b'{"fn": "Hello4A628BD4", "version": "$LATEST", "greeting": "hi", '
                               b'"path": "/anything"}'))
        self.check_routes(lb)
        self.check_layer(lb)

    def test_a_nested_stack_is_served_with_its_parent(self):
        # Why: a CDK NestedStack is an AWS::CloudFormation::Stack whose template lies
        # beside its parent's; lb skipped it, so its function and rules went unserved.
        # Its rule reaches the parent's listener through a parameter; the parent's rule
        # reaches its target group through an output (Fn::GetAtt [.., Outputs.X]).
        self.check_nested(self.serve_assembly("--nested"))

    def test_a_nested_stack_without_asset_metadata_is_found_in_the_assets_manifest(self):
        # Why: without aws:asset:path the TemplateURL is only the S3 URL of the template's
        # asset (HASH.json); lb warned and served neither the nested function nor its rules.
        # AlbLambdaStack.assets.json names the file of that hash.
        self.check_nested(self.serve_assembly("--nested", "--no-asset-metadata"))

    def check_nested(self, lb):
        self.check_routes(lb)
        self.assertNotIn("nested stack", lb.stderr())
        for path in ("/svc/a", "/parent/b"):
            body = lb.json(path)
            self.assertEqual((body["greeting"], body["path"]), ("nested", path), body)
            self.assertTrue(body["fn"].startswith("Svc"), body)


NESTED_PARENT = """\
Parameters:
  Env: {Type: String, Default: prod}
Conditions:
  WithExtra: !Equals [!Ref Env, dev]
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {}}
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 80
      Protocol: HTTP
      DefaultActions:
        - Type: fixed-response
          FixedResponseConfig: {StatusCode: "404", ContentType: text/plain, MessageBody: !GetAtt Svc.Outputs.Greeting}
  Svc:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: nested/svc.yaml
      Parameters: {ListenerArn: !Ref L, Who: !Sub "svc of ${AWS::StackName}"}
  Extra:
    Type: AWS::CloudFormation::Stack
    Condition: WithExtra
    Properties:
      TemplateURL: nested/extra.yaml
      Parameters: {ListenerArn: !Ref L}
  Remote:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://s3.amazonaws.com/bucket/remote.yaml
"""

NESTED_RULE = """\
Parameters:
  ListenerArn: {Type: String}
%s
Resources:
  Rule:
    Type: AWS::ElasticLoadBalancingV2::ListenerRule
    Properties:
      ListenerArn: !Ref ListenerArn
      Priority: %d
      Conditions: [{Field: path-pattern, PathPatternConfig: {Values: ["/%s/*"]}}]
      Actions:
        - Type: fixed-response
          FixedResponseConfig: {StatusCode: "200", ContentType: text/plain, MessageBody: !Sub "%s"}
%s
"""


class NestedStackTests(LbTestCase):
    """AWS::CloudFormation::Stack with a local TemplateURL, as `aws cloudformation
    package` takes it: parameters in, outputs out, conditions, what lb cannot read."""

    def write(self, tmp, svc_params="  Who: {Type: String}\n  Body: {Type: String, Default: from default}",
              outputs='Outputs:\n  Greeting: {Value: !Sub "not found, from ${AWS::StackName}"}',
              parent=NESTED_PARENT):
        os.makedirs(os.path.join(tmp, "nested"))
        files = {"parent.yaml": parent,
                 "nested/svc.yaml": NESTED_RULE % (svc_params, 10, "svc",
                                                   "${Who} ${Body} ${AWS::StackName}", outputs),
                 "nested/extra.yaml": NESTED_RULE % ("", 20, "extra", "extra", "")}
        for name, text in files.items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        return os.path.join(tmp, "parent.yaml")

    def test_a_nested_stack_serves_with_its_parent(self):
        # Why: lb skipped AWS::CloudFormation::Stack, so the rules of nested stacks
        # went unserved. Both nested templates have a rule 'Rule': each stack's are its own.
        # --parameter AWS::StackName names the top stack only: a nested one is PARENT-ID-SUFFIX.
        for env, name, extra in (("prod", "parent", None), ("dev", "shop", (200, b"extra"))):
            with self.subTest(env=env), tempfile.TemporaryDirectory() as tmp:
                lb = StackLb(tmp, "parent.yaml", args=["--port-map", "80=0", "--parameter", "Env=" + env] +
                             (["--parameter", "AWS::StackName=" + name] if name != "parent" else []))
                self.write(lb.config_path.rsplit("/", 1)[0])
                serve(self, lb)
                r = lb.get("/svc/x")
                self.assertEqual(r.status, 200, r)
                self.assertRegex(r.body.decode(), r"^svc of %s from default %s-Svc-[0-9A-F]{12}$" % (name, name))
                r = lb.get("/extra/x")
                if extra is None:  # its Condition is false: the stack is not created
                    self.assertEqual(r.status, 404, r)
                    self.assertRegex(r.body.decode(), r"^not found, from %s-Svc-[0-9A-F]{12}$" % name)
                else:
                    self.assertEqual((r.status, r.body), extra)
                self.assertRegex(lb.stderr(), r"warning: \S+/parent\.yaml:\d+:\d+: nested stack "
                                 r"'Remote': lb reads a nested template from a local TemplateURL "
                                 r"or a CDK asset, not from S3 or a repository; its "
                                 r"resources are not served")

    def test_a_sam_application_with_a_local_location_is_a_nested_stack(self):
        parent = ("Transform: AWS::Serverless-2016-10-31\n" + NESTED_PARENT).replace(
            "Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: nested/svc.yaml",
            "Type: AWS::Serverless::Application\n    Properties:\n      Location: nested/svc.yaml")
        self.assertIn("AWS::Serverless::Application", parent)
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", self.write(tmp, parent=parent), tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertIn("  10 path_pattern: /svc/* -> fixed-response 200 text/plain\n", out)

    def test_what_a_nested_stack_lacks_is_an_error_at_its_place(self):
        cases = {
            "output": ({"outputs": ""}, r"parent\.yaml:15:\d+: nested stack 'Svc' \(\S+/nested/svc\.yaml\) "
                       r"has no output 'Greeting'"),
            "parameter": ({"svc_params": "  Who: {Type: String}\n  Body: {Type: String}"},
                          r"nested/svc\.yaml:\d+:\d+: parameter 'Body' has no Default, and nested "
                          r"stack 'Svc' of \S+/parent\.yaml does not pass it"),
            "list": ({"parent": NESTED_PARENT.replace('Who: !Sub "svc of ${AWS::StackName}"', "Who: [a, b]")},
                     r"parent\.yaml:20:\d+: nested stack 'Svc': parameter 'Who' takes a string "
                     r"\(Fn::Join a list\)"),
            "itself": ({"parent": NESTED_PARENT.replace("nested/svc.yaml", "parent.yaml")},
                       r"parent\.yaml:\d+:\d+: nested stack '\w+': more than 8 levels "
                       r"\(does a template nest itself\?\)"),
            "missing": ({"parent": NESTED_PARENT.replace("nested/svc.yaml", "nested/gone.yaml")},
                        r"parent\.yaml:\d+:\d+: nested stack 'Svc': .*gone\.yaml"),
        }
        for name, (kw, want) in cases.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                path = self.write(tmp, **kw)
                code, _, err = lb_run("check", "-c", path, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                self.assertRegex(err.strip().splitlines()[-1], "^(lb: error: )?" + re.escape(tmp) + "/" + want)


    def test_a_nested_stack_exporting_its_parents_export_name_is_refused(self):
        # Why: an export name is unique in a region, nested stacks' exports too; lb
        # refused a second one only where an Fn::ImportValue read it.
        parent = NESTED_PARENT + "Outputs:\n  Mine: {Value: x, Export: {Name: shared}}\n"
        outputs = ('Outputs:\n  Greeting: {Value: hi}\n'
                   '  Again: {Value: y, Export: {Name: !Sub "shared"}}')
        with tempfile.TemporaryDirectory() as tmp:
            code, _, err = lb_run("check", "-c", self.write(tmp, parent=parent, outputs=outputs),
                                  tmpdir=tmp)
        self.assertEqual(code, 1, err)
        self.assertRegex(err.strip().splitlines()[-1], r"^(lb: error: )?%s/nested/svc\.yaml:17:36: "
                         r"export 'shared' of stack parent-Svc-[0-9A-F]{12}: stack parent exports "
                         r"it already \(%s/parent\.yaml:32:35\), and CloudFormation refuses a "
                         r"second export of one name$" % (re.escape(tmp), re.escape(tmp)))


class CdkAssemblyErrorTests(LbTestCase):
    """Cloud assemblies lb cannot read, written by hand as CDK lays them out."""
    TEMPLATE = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function",
               "Properties": {"Runtime": "python3.12", "Handler": "index.handler",
                              "Code": {"S3Bucket": "b", "S3Key": "k.zip"}},
               "Metadata": {"aws:asset:path": "asset.1", "aws:asset:is-bundled": False,
                            "aws:asset:property": "Code"}},
        "TG": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
               "Properties": {"TargetType": "lambda",
                              "Targets": [{"Id": {"Fn::GetAtt": ["Fn", "Arn"]}}]}},
        "LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
        "L": {"Type": "AWS::ElasticLoadBalancingV2::Listener",
              "Properties": {"LoadBalancerArn": {"Ref": "LB"}, "Port": 8080,
                             "DefaultActions": [{"Type": "forward",
                                                 "TargetGroupArn": {"Ref": "TG"}}]}}}}

    def assembly(self, tmp, extra=None, asset="asset.1"):
        out = os.path.join(tmp, "cdk.out")
        os.makedirs(os.path.join(out, "asset.1"))
        arts = {"App": {"type": "aws:cloudformation:stack",
                        "properties": {"templateFile": "App.template.json"}}}
        arts.update(extra or {})
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump({"version": "36.0.0", "artifacts": arts}, f, indent=1)
        doc = json.loads(json.dumps(self.TEMPLATE))
        doc["Resources"]["Fn"]["Metadata"]["aws:asset:path"] = asset
        with open(os.path.join(out, "App.template.json"), "w") as f:
            json.dump(doc, f, indent=1)
        return out

    def test_the_staged_assembly_loads(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", self.assembly(tmp), tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"function Fn: python3\.12 index\.handler, code \S+/cdk\.out/asset\.1,")

    def test_a_nested_assembly_that_is_itself_or_its_parent(self):
        # Why: directoryName "." made lb walk the assembly again and report "several
        # stacks: name one with -c cdk.out/./App.template.json", the same stack twice.
        for name, want in ((".", "this assembly's own directory"),
                           ("./", "this assembly's own directory"),
                           ("..", None),
                           ("assembly-Dev/..", "this assembly's own directory")):
            with self.subTest(directoryName=name), tempfile.TemporaryDirectory() as tmp:
                nested = {"assembly-Dev": {"type": "cdk:cloud-assembly",
                                           "properties": {"directoryName": name,
                                                          "displayName": "Dev"}}}
                out = self.assembly(tmp, nested)
                os.makedirs(os.path.join(out, "assembly-Dev"))
                if name == "..":
                    # the assembly's parent holds an assembly naming cdk.out as nested
                    with open(os.path.join(tmp, "manifest.json"), "w") as f:
                        json.dump({"version": "36.0.0", "artifacts": {"Out": {
                            "type": "cdk:cloud-assembly",
                            "properties": {"directoryName": "cdk.out"}}}}, f)
                    out, want = tmp, "an assembly that contains it"
                code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, r"manifest\.json:\d+:\d+: nested cloud assembly '%s' is %s "
                                 r"\(CDK writes a Stage's assembly to a directory of its own, "
                                 r"assembly-NAME\)" % (re.escape(name), re.escape(want)))
                self.assertNotIn("several stacks", err)

    def test_several_stacks_name_the_one_with_the_load_balancer(self):
        # Why: two stacks each with a load balancer (two Stages, say) are two ALBs, and
        # lb serves one: it names the first, and says when a stack importing from the
        # others would go unserved with it.
        net = json.loads(json.dumps(self.TEMPLATE))
        del net["Resources"]["Fn"], net["Resources"]["TG"]
        net["Resources"]["L"]["Properties"]["DefaultActions"] = [{
            "Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
        net["Outputs"] = {"ExportsOutputRefL": {"Value": {"Ref": "L"},
                                                "Export": {"Name": "Network:ExportsOutputRefL"}}}
        svc = {"Resources": {"R": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
            "ListenerArn": {"Fn::ImportValue": "Network:ExportsOutputRefL"}, "Priority": 10,
            "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x"]}}],
            "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}]}}}}
        for stacks in ((("Service", svc), ("Network", net), ("Other", net)),
                       (("Network", net), ("Other", net))):
            with self.subTest(first=stacks[0][0]), tempfile.TemporaryDirectory() as tmp:
                out = write_assembly(tmp, stacks)
                code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                want = "%s: the cloud assembly has several stacks: name one with -c %s/Network.template.json" % (out, out)
                if stacks[0][0] == "Service":
                    want += (" (lb serves one stack: what %s/Service.template.json reaches through "
                             "Fn::ImportValue is not served)" % out)
                self.assertEqual(err.strip().splitlines()[-1], want)

    def test_an_asset_path_that_is_the_assembly_itself(self):
        # Why: lb ran the function with the whole cdk.out as its code (and no handler).
        for asset in (".", "./", "../cdk.out"):
            with self.subTest(asset=asset), tempfile.TemporaryDirectory() as tmp:
                code, _, err = lb_run("check", "-c", self.assembly(tmp, asset=asset), tmpdir=tmp)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, r"App\.template\.json:\d+:\d+: the asset of 'Fn' "
                                 r"\(aws:asset:path '%s'\) is the cloud assembly's own directory, "
                                 r"not its code: CDK stages an asset in asset\.HASH beside the "
                                 r"template" % re.escape(asset))


JSON_TEMPLATE = """{
  "Parameters": {"Name": {"Type": "String", "Default": "j"}},
  "Resources": {
    "LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
    "L": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
      "LoadBalancerArn": {"Ref": "LB"}, "Port": 80, "Protocol": "HTTP",
      "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "200", "ContentType": "text/plain",
        "MessageBody": {"Fn::Join": ["", ["json ", {"Ref": "Name"}, " ", {"Fn::Sub": "${AWS::StackName}"}]]}}}]}}%s
  }
}
"""


class CdkStacksTests(LbTestCase):
    """A cloud assembly whose ALB stack and service stack are joined by Fn::ImportValue,
    as CDK splits an app (Outputs.X.Export.Name, ExportsOutputRef...), served as one."""
    EXPORT = "Network:ExportsOutputRefListenerD8E7A6A3"
    CODE = ("import os\n"
            "def handler(event, context):\n"
            "    return {'statusCode': 200, 'body': os.environ['GREETING'] + ' ' + event['path']}\n")

    def network(self):
        return {
            "Parameters": {"Greeting": {"Type": "String", "Default": "network"}},
            "Resources": {
                "LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
                "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                    "LoadBalancerArn": {"Ref": "LB"}, "Port": 80, "Protocol": "HTTP",
                    "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"}}]}}},
            "Outputs": {"ExportsOutputRefListenerD8E7A6A3": {
                "Value": {"Ref": "Listener"}, "Export": {"Name": self.EXPORT}}}}

    def service(self, export=None):
        imp = {"Fn::ImportValue": export or self.EXPORT}
        return {
            # the same parameter name as the network stack's: each stack reads its own
            "Parameters": {"Greeting": {"Type": "String", "Default": "service"}},
            "Resources": {
                # a logical id the network stack also uses, for another resource
                "LB": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Runtime": "python3.12", "Handler": "index.handler",
                    "Code": {"ZipFile": self.CODE},
                    "Environment": {"Variables": {"GREETING": {"Fn::Sub": "${Greeting} ${LB.Arn}"}}}}},
                "TG": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {
                    "TargetType": "lambda", "Targets": [{"Id": {"Fn::GetAtt": ["Fn", "Arn"]}}]}},
                "Api": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                    "ListenerArn": imp, "Priority": 10,
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
                    "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TG"}}]}},
                "Ping": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {
                    "ListenerArn": imp, "Priority": 20,
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/ping"]}}],
                    "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "pong"}}]}}}}

    def test_the_service_stacks_rules_are_served_on_the_network_stacks_listener(self):
        # Why: lb read one stack of an assembly; the service stack's rules, target group
        # and function, joined to the ALB's listener by Fn::ImportValue, went unserved.
        tmp = tempfile.mkdtemp(prefix="lbcdk-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = write_assembly(tmp, (("Service", self.service()), ("Network", self.network())))
        lb = StackLb(out, ".", args=["--port-map", "80=0"])
        lb.config_path = os.path.dirname(lb.config_path)
        serve(self, lb)
        assert_routes(self, lb,
                      ("/api/users", 200, b"service LB.Arn /api/users"),
                      ("/ping", 200, b"pong"),
                      ("/other", 404, b"no route"))

    def test_the_load_balancer_may_be_in_a_nested_stack_of_one_of_the_stacks(self):
        # Why: lb looked for the load balancer in the assembly's stacks only, so one in
        # a NestedStack of one of several stacks was none: "name one with -c". The
        # nested stack is named by aws:asset:path, or, without it, by the assets manifest.
        alb = self.network()
        alb["Outputs"] = {"ListenerArn": {"Value": {"Ref": "Listener"}}}
        url = {"Fn::Join": ["", ["https://s3.", {"Ref": "AWS::Region"}, ".amazonaws.com/b/",
                                 "ab" * 32 + ".json"]]}
        for metadata in (True, False):
            with self.subTest(metadata=metadata):
                tmp = tempfile.mkdtemp(prefix="lbcdk-")
                self.addCleanup(shutil.rmtree, tmp, True)
                nested = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}
                if metadata:
                    nested["Metadata"] = {"aws:asset:path": "NetworkAlb.nested.template.json",
                                          "aws:asset:property": "TemplateURL"}
                net = {"Resources": {"Alb": nested}, "Outputs": {"ExportsOutputRefListenerD8E7A6A3": {
                    "Value": {"Fn::GetAtt": ["Alb", "Outputs.ListenerArn"]},
                    "Export": {"Name": self.EXPORT}}}}
                out = write_assembly(tmp, (("Service", self.service()), ("Network", net)))
                with open(os.path.join(out, "NetworkAlb.nested.template.json"), "w") as f:
                    json.dump(alb, f, indent=1)
                if not metadata:
                    with open(os.path.join(out, "Network.assets.json"), "w") as f:
                        json.dump({"version": "36.0.0", "files": {"ab" * 32: {"source": {
                            "path": "NetworkAlb.nested.template.json", "packaging": "file"}}}}, f)
                lb = StackLb(out, ".", args=["--port-map", "80=0"])
                lb.config_path = os.path.dirname(lb.config_path)
                serve(self, lb)
                assert_routes(self, lb,
                              ("/api/users", 200, b"service LB.Arn /api/users"),
                              ("/ping", 200, b"pong"),
                              ("/other", 404, b"no route"))
        # Two stacks each nesting a load balancer: lb names the first of them.
        with tempfile.TemporaryDirectory() as tmp:
            net["Resources"]["Alb"]["Metadata"] = {"aws:asset:path": "NetworkAlb.nested.template.json"}
            other = json.loads(json.dumps(net))
            other["Outputs"]["ExportsOutputRefListenerD8E7A6A3"]["Export"]["Name"] = "Other:L"
            out = write_assembly(tmp, (("Other", other), ("Service", self.service()), ("Network", net)))
            with open(os.path.join(out, "NetworkAlb.nested.template.json"), "w") as f:
                json.dump(alb, f, indent=1)
            code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
            self.assertEqual(code, 1, err)
            self.assertEqual(err.strip().splitlines()[-1], "%s: the cloud assembly has several "
                             "stacks: name one with -c %s/Other.template.json (lb serves one "
                             "stack: what %s/Service.template.json reaches through "
                             "Fn::ImportValue is not served)" % (out, out, out))

    def test_an_import_no_other_stack_exports(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = write_assembly(tmp, (("Network", self.network()),
                                       ("Service", self.service("Network:Nope"))))
            code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
            self.assertEqual(code, 1, err)
            at = json_pos(os.path.join(out, "Service.template.json"), '"ListenerArn"')
            at = at.rsplit(":", 1)[0] + ":%d" % (int(at.rsplit(":", 1)[1]) + len('"ListenerArn": '))
            self.assertEqual(err.strip().splitlines()[-1], "%s: Fn::ImportValue: no other stack of "
                             "the cloud assembly exports 'Network:Nope'" % at)

    def test_an_export_name_two_stacks_give_is_refused(self):
        # Why: an export name is unique in a region; CloudFormation refuses the second,
        # whether or not a stack imports it. lb refused it only where imported.
        other = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}},
                 "Outputs": {"Again": {"Value": "x", "Export": {"Name": self.EXPORT}}}}
        for importer in ("imported", "not imported"):
            with self.subTest(importer), tempfile.TemporaryDirectory() as tmp:
                svc = self.service() if importer == "imported" else self.service("Network:Other")
                if importer == "not imported":
                    svc["Outputs"] = {"Other": {"Value": "y", "Export": {"Name": "Network:Other"}}}
                    del svc["Resources"]["Api"], svc["Resources"]["Ping"]
                out = write_assembly(tmp, (("Network", self.network()), ("Other", other),
                                           ("Service", svc)))
                code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                at = json_pos(os.path.join(out, "Other.template.json"), '"Name"')
                at = at.rsplit(":", 1)[0] + ":%d" % (int(at.rsplit(":", 1)[1]) + len('"Name": '))
                first = json_pos(os.path.join(out, "Network.template.json"), '"Name"')
                first = first.rsplit(":", 1)[0] + ":%d" % (int(first.rsplit(":", 1)[1]) + len('"Name": '))
                self.assertEqual(err.strip().splitlines()[-1], "%s: export '%s' of stack Other: stack "
                                 "Network exports it already (%s), and CloudFormation refuses a "
                                 "second export of one name" % (at, self.EXPORT, first))

    def test_a_stack_does_not_import_its_own_export(self):
        # Why: an export exists once its stack is deployed, so CloudFormation refuses a
        # stack importing its own.
        net = self.network()
        svc = self.service()
        svc["Outputs"] = {"Mine": {"Value": "x", "Export": {"Name": "Service:Mine"}}}
        svc["Resources"]["Ping"]["Properties"]["Actions"][0]["FixedResponseConfig"]["MessageBody"] = {
            "Fn::ImportValue": "Service:Mine"}
        with tempfile.TemporaryDirectory() as tmp:
            out = write_assembly(tmp, (("Network", net), ("Service", svc)))
            code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
            self.assertEqual(code, 1, err)
            self.assertRegex(err.strip().splitlines()[-1], r"^%s:\d+:\d+: Fn::ImportValue: no other "
                             r"stack of the cloud assembly exports 'Service:Mine'$"
                             % re.escape(os.path.join(out, "Service.template.json")))

    def test_resources_two_stacks_name_alike_are_refused(self):
        # Why: lb names a target group by its logical id; the service stack's rule would
        # have forwarded to the network stack's group of the same id.
        net = self.network()
        net["Resources"]["TG"] = {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                                  "Properties": {"TargetType": "ip", "Port": 80, "Protocol": "HTTP"}}
        with tempfile.TemporaryDirectory() as tmp:
            out = write_assembly(tmp, (("Network", net), ("Service", self.service())))
            code, _, err = lb_run("check", "-c", out, tmpdir=tmp)
            self.assertEqual(code, 1, err)
            at = json_pos(os.path.join(out, "Service.template.json"), '"TG": {')
            at = at.rsplit(":", 1)[0] + ":%d" % (int(at.rsplit(":", 1)[1]) + len('"TG": '))
            self.assertEqual(err.strip().splitlines()[-1], "%s: 'TG' of stack Service and 'TG' of "
                             "stack Network are both 'TG' to lb, which cannot tell them apart: "
                             "give one another Name" % at)


class ErrorTests(LbTestCase):
    def check(self, name, text, *args):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return lb_run("check", "-c", path, *args, tmpdir=tmp)

    def test_json_templates_load_with_long_forms(self):
        lb = StackLb(os.devnull, "x", args=["--port-map", "80=0"])
        lb.write("stack/app.json", JSON_TEMPLATE % "")
        lb.config_path = os.path.join(lb.dir, "stack", "app.json")
        serve(self, lb)
        r = lb.get("/")
        self.assertEqual((r.status, r.body), (200, b"json j app"))

    def test_json_errors_name_line_and_column(self):
        bad = ',\n    "T": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {\n' \
              '      "TargetType": "lambda", "Targets": [{"Id": {"Ref": "Nope"}}]}}'
        code, _, err = self.check("app.json", JSON_TEMPLATE % bad)
        self.assertEqual(code, 1)
        self.assertIn("app.json:11:58: unresolved reference 'Nope'", err)

    def test_code_in_s3_is_an_error_naming_the_resource(self):
        code, _, err = self.check("t.yaml", """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Code: {S3Bucket: b, S3Key: k.zip}
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 8080
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "200"}}]
""")
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:8:13: function 'Fn' has its code in S3, which lb cannot read", err)

    def test_lb_rejects_what_it_would_reject_in_lb_yaml_at_the_template_position(self):
        code, _, err = self.check("t.yaml", """
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 8080
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "700"}}]
""")
        self.assertEqual(code, 1)
        self.assertRegex(err, r"t\.yaml:9:\d+: .*700")

    FORWARD = """
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  TG: {Type: AWS::ElasticLoadBalancingV2::TargetGroup, Properties: {Port: 80, Protocol: HTTP}}
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 8080
      DefaultActions:
        - Type: forward
          ForwardConfig: %s
"""

    def test_a_forward_config_that_is_not_a_mapping(self):
        code, out, err = self.check("t.yaml", self.FORWARD % "[x]")
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:12:26: 'forward' must be a mapping", err)
        self.assertNotIn("runtime error", err)
        rule = self.FORWARD % "{TargetGroups: [{TargetGroupArn: !Ref TG}]}" + """
  R:
    Type: AWS::ElasticLoadBalancingV2::ListenerRule
    Properties:
      ListenerArn: !Ref L
      Priority: 1
      Conditions: [{Field: path-pattern, Values: [/a]}]
      Actions: [{Type: forward, ForwardConfig: x}]
"""
        code, out, err = self.check("t.yaml", rule)
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:20:48: 'forward' must be a mapping", err)
        self.assertNotIn("runtime error", err)

    def test_forward_stickiness_that_is_not_a_mapping(self):
        code, _, err = self.check("t.yaml", self.FORWARD % (
            "{TargetGroups: [{TargetGroupArn: !Ref TG}], TargetGroupStickinessConfig: [x]}"))
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:12:99: 'stickiness' must be a mapping", err)

    def test_forward_config_keys_of_the_wrong_shape_or_name(self):
        # CloudFormation's ForwardConfig types: a misspelt key would otherwise vanish
        for config, message in [
                ("{TargetGroups: {TargetGroupArn: !Ref TG}}", "12:41: 'TargetGroups' must be a list"),
                ("{TargetGroups: [x]}", "12:42: 'TargetGroups' must be a list of mappings"),
                ("{TargetGroups: [{TargetGroupArn: !Ref TG, Wieght: 2}]}",
                 "12:68: unknown key 'Wieght' (did you mean 'Weight'?)"),
                ("{TargetGroups: [{Weight: 2}]}", "12:42: missing key 'TargetGroupArn'"),
                ("{TargetGroups: [{TargetGroupArn: !Ref TG}], TargetGroupStickinessConfig: "
                 "{Enabled: true, Duration: 60}}", "12:115: unknown key 'Duration'"),
                ("{TargetGroup: [{TargetGroupArn: !Ref TG}]}",
                 "12:27: unknown key 'TargetGroup' (did you mean 'TargetGroups'?)")]:
            with self.subTest(config):
                code, _, err = self.check("t.yaml", self.FORWARD % config)
                self.assertEqual(code, 1, err)
                self.assertIn(message, err)
                self.assertNotIn("runtime error", err)

    def test_a_rule_on_a_listener_the_template_does_not_define(self):
        arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/y/z"
        code, _, err = self.check("t.yaml", self.FORWARD % (
            "{TargetGroups: [{TargetGroupArn: !Ref TG}]}") + """
  R:
    Type: AWS::ElasticLoadBalancingV2::ListenerRule
    Properties:
      ListenerArn: %s
      Priority: 1
      Conditions: [{Field: path-pattern, Values: [/a]}]
      Actions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "200"}}]
""" % arn)
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:17:20: '%s' is not a listener of this template" % arn, err)

    def test_a_listener_of_a_skipped_network_load_balancer_goes_with_it(self):
        code, out, err = self.check("t.yaml", """
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}
  NLB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {Type: network}}
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 8080
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "200"}}]
  NL:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref NLB
      Port: 9000
      Protocol: TCP
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "200"}}]
""")
        self.assertEqual(code, 0, err)
        self.assertIn("not emulated, skipped: NLB (a network load balancer)", err)
        self.assertIn("listener http://127.0.0.1:8080\n", out)
        self.assertNotIn("9000", out)

    def test_a_listener_on_a_load_balancer_the_template_does_not_define(self):
        arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/y"
        code, _, err = self.check("t.yaml", self.FORWARD % "{TargetGroups: [{TargetGroupArn: !Ref TG}]}" + """
  L2:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: %s
      Port: 8081
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "200"}}]
""" % arn)
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:17:24: '%s' is not a load balancer of this template" % arn, err)

    ATTRS = """
Resources:
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      LoadBalancerAttributes: %s
  TG:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: 80
      Protocol: HTTP
      Matcher: %s
      TargetGroupAttributes: %s
  L:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 8080
      DefaultActions: [{Type: forward, TargetGroupArn: !Ref TG}]
"""

    def test_attributes_and_matcher_of_the_wrong_shape_are_errors_at_their_place(self):
        ok = ("[{Key: idle_timeout.timeout_seconds, Value: 30}, {Key: access_logs.s3.enabled, Value: false}]",
              "{HttpCode: 200}", "[{Key: stickiness.enabled, Value: true}]")
        code, _, err = self.check("t.yaml", self.ATTRS % ok)
        self.assertEqual(code, 0, err)
        self.assertIn("attribute access_logs.s3.enabled", err)
        for i, bad, want in (
                (0, "{idle_timeout.timeout_seconds: 30}", "6:31: 'LoadBalancerAttributes' must be a list"),
                (0, "[{Key: idle_timeout.timeout_seconds, Value: [30]}]", "6:75: 'Value' must be a string"),
                (1, "'200'", "12:16: 'Matcher' must be a mapping"),
                (1, "{Codes: '200'}", "12:17: unknown key 'Codes' (it takes: HttpCode, GrpcCode)"),
                (2, "[stickiness.enabled=true]", "13:31: 'TargetGroupAttributes' must be a list of mappings"),
                (2, "[{Key: stickiness.enabled}]", "13:31: missing key 'Value'")):
            args = list(ok)
            args[i] = bad
            code, _, err = self.check("t.yaml", self.ATTRS % tuple(args))
            self.assertEqual(code, 1, bad)
            self.assertIn("t.yaml:" + want + "\n", err)

    def test_unsupported_intrinsics_and_missing_parameters(self):
        code, _, err = self.check("t.yaml", """
Parameters:
  P: {Type: String}
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {Name: !Ref P}}
""")
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:3:3: parameter 'P' has no Default: pass --parameter P=VALUE", err)
        code, _, err = self.check("t.yaml", """
Resources:
  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {Name: !Cidr [a, b, c]}}
""")
        self.assertIn("t.yaml:3:76: Fn::Cidr is not supported", err)

    def test_a_template_without_a_load_balancer(self):
        code, _, err = self.check("t.yaml", "Resources:\n  T: {Type: AWS::SNS::Topic}\n")
        self.assertEqual(code, 1)
        self.assertIn("t.yaml:2:3: the template defines no application load balancer", err)

    def test_lb_yaml_still_refuses_tags(self):
        code, _, err = self.check("lb.yaml", "listeners: !Ref X\n")
        self.assertEqual(code, 1)
        self.assertIn("lb.yaml:1:12: tag '!Ref' is not supported", err)



ROUND_TRIP_CONFIG = """
load_balancer: {name: rt-alb, attributes: {idle_timeout.timeout_seconds: 30}}
listeners:
  - port: 0
    rules: ["rules/*.yaml"]
    default_actions:
      - type: fixed-response
        fixed_response: {status_code: "404", content_type: text/plain, message_body: "none"}
target_groups:
  - {name: who, target_type: lambda, targets: ["who"], attributes: {lambda.multi_value_headers.enabled: true}}
  - {name: who-live, target_type: lambda, targets: ["who:live"]}
  - {name: who-one, target_type: lambda, targets: ["who:1"]}
functions:
  - name: who
    runtime: python3.11
    handler: index.handler
    code: fn
    timeout: 7
    environment: {variables: {WHO: original}}
    versions: [{version: "1"}]
    aliases: [{name: live, function_version: "1"}]
"""

ROUND_TRIP_RULES = """
rules:
  - priority: 5
    conditions:
      - path_pattern: {values: ["/who/*"]}
      - http_request_method: {values: [GET]}
      - source_ip: {values: ["127.0.0.0/8", "::1/128"]}
    actions: [{type: forward, target_group: who}]
  - priority: 6
    conditions: [{path_pattern: {values: ["/live"]}}, {query_string: {values: [{key: v, value: "1"}, {value: "x*"}]}}]
    actions: [{type: forward, target_group: who-live}]
  - priority: 7
    conditions: [{host_header: {values: ["*.example.org"]}}, {http_header: {http_header_name: X-Env, values: [beta]}}]
    actions:
      - type: forward
        forward:
          target_groups: [{name: who-one, weight: 1}, {name: who-live, weight: 1}]
          stickiness: {enabled: true, duration: 60}
  - priority: 9
    conditions: [{path_pattern: {regex_values: ["^/rx/([a-z]+)$"]}}]
    actions: [{type: forward, target_group: who}]
    transforms:
      - type: url-rewrite
        rewrites: [{regex: "^/rx/([a-z]+)$", replace: "/who/$1"}]
  - priority: 8
    conditions: [{path_pattern: {values: ["/old/*"]}}]
    actions: [{type: redirect, redirect: {host: new.example.com, path: "/n/#{path}", status_code: HTTP_302}}]
"""

WHO_PY = """
import os
def handler(event, context):
    return {"statusCode": 200, "body": os.environ["WHO"] + ":" + context.function_version + ":" + event["path"]}
"""

REQUESTS = [
    ("/who/a", "example.com", []), ("/who/a?x=1", "example.com", []), ("/live?v=1", "a", []),
    ("/live?q=xy", "a", []), ("/live?v=2", "a", []), ("/p", "api.example.org", ["X-Env: beta"]),
    ("/p", "api.example.org", []), ("/old/x?y=1", "h", []), ("/rx/abc", "h", []),
    ("/rx/ABC", "h", []), ("/nothing", "h", []),
]


class ExportTests(LbTestCase):
    def answers(self, lb):
        out = []
        for path, host, headers in REQUESTS:
            r = lb.get(path, host=host, headers=headers)
            loc = (r.header("Location") or "").replace(str(lb.port), "PORT")
            out.append((r.status, r.body, loc))
        return out

    def test_export_then_import_routes_every_request_the_same(self):
        lb = self.start(ROUND_TRIP_CONFIG, rules={"r.yaml": ROUND_TRIP_RULES},
                        files={"fn/index.py": WHO_PY}, access_log=False)
        before = self.answers(lb)
        code, template, err = lb_run("export", "cloudformation", "-c", lb.config_path,
                                     tmpdir=lb.dir)
        self.assertEqual(code, 0, err)
        doc = json.loads(template)
        fn = doc["Resources"]["WhoFunction"]
        self.assertEqual(fn["Metadata"]["aws:asset:property"], "Code")
        self.assertEqual(fn["Metadata"]["aws:asset:path"], os.path.realpath(os.path.join(lb.dir, "fn")))
        self.assertEqual(fn["Properties"]["Code"]["S3Bucket"], {"Ref": "AssetBucket"})
        self.assertEqual(doc["Resources"]["WhoLiveTargetGroupInvokePermission"]["Properties"]["FunctionName"],
                         {"Ref": "WhoFunctionAliaslive"})
        imported = StackLb(os.devnull, "x", args=["--port-map", "80=0"])
        self.addCleanup(imported.tmp.cleanup)
        imported.write("stack/exported.json", template)
        imported.config_path = os.path.join(imported.dir, "stack", "exported.json")
        imported.start()
        self.addCleanup(imported.stop)
        self.assertEqual(self.answers(imported), before)
        self.assertEqual(before[0], (200, b"original:$LATEST:/who/a", ""))
        self.assertEqual(before[7][2], "http://new.example.com:PORT/n/old/x?y=1")
        self.assertEqual(before[8], (200, b"original:$LATEST:/who/abc", ""))   # regex + rewrite
        self.assertEqual(before[9][0], 404)
        ensure_cdk()   # regex values and transforms pass cloudformation-include too
        p = subprocess.run(["node", os.path.join(CDK_DIR, "include.js"),
                            imported.config_path, os.path.join(imported.dir, "out")],
                           capture_output=True, text=True, timeout=300, cwd=CDK_DIR)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        rule9 = doc["Resources"]["Port80ListenerRule9"]["Properties"]
        self.assertEqual(rule9["Conditions"][0]["PathPatternConfig"], {"RegexValues": ["^/rx/([a-z]+)$"]})
        self.assertEqual(rule9["Transforms"][0]["Type"], "url-rewrite")

    def test_the_demo_exports_and_reads_back_to_the_same_summary(self):
        demo = os.path.join(ROOT, "config", "lb.yaml")
        with tempfile.TemporaryDirectory() as tmp:
            code, template, err = lb_run("export", "cloudformation", "-c", demo, tmpdir=tmp)
            self.assertEqual(code, 0, err)
            path = os.path.join(tmp, "demo.json")
            with open(path, "w") as f:
                f.write(template)
            code, original, _ = lb_run("check", "-c", demo, tmpdir=tmp)
            self.assertEqual(code, 0)
            code, again, err = lb_run("check", "-c", path, tmpdir=tmp)
            self.assertEqual(code, 0, err)
        # lb's own settings (the access log, its Invoke API, its console) are not AWS resources
        original = [l for l in original.splitlines()
                    if not l.startswith(("  access log", "lambda api", "console on"))]
        self.assertEqual(again.splitlines(), original)

    def test_cloudformation_include_accepts_the_export(self):
        ensure_cdk()
        demo = os.path.join(ROOT, "config", "lb.yaml")
        with tempfile.TemporaryDirectory() as tmp:
            code, template, err = lb_run("export", "cloudformation", "-c", demo, tmpdir=tmp)
            self.assertEqual(code, 0, err)
            path = os.path.join(tmp, "demo.json")
            with open(path, "w") as f:
                f.write(template)
            p = subprocess.run(["node", os.path.join(CDK_DIR, "include.js"), path,
                                os.path.join(tmp, "out")], capture_output=True, text=True,
                               timeout=300, cwd=CDK_DIR)
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            # and it rejects a property of the wrong type, so the check has teeth
            doc = json.loads(template)
            doc["Resources"]["ApiFunction"]["Properties"]["Timeout"] = {"not": "a number"}
            with open(path, "w") as f:
                json.dump(doc, f)
            p = subprocess.run(["node", os.path.join(CDK_DIR, "include.js"), path,
                                os.path.join(tmp, "out2")], capture_output=True, text=True,
                               timeout=300, cwd=CDK_DIR)
            self.assertNotEqual(p.returncode, 0)


class TerraformTests(LbTestCase):
    def serve(self, name):
        lb = StackLb(os.path.join(STACK, "tf"), name, args=["--port-map", "80=0"])
        serve(self, lb)
        return lb

    def test_a_state_serves_rules_targets_versions_and_aliases(self):
        lb = self.serve("state.json")
        r = lb.get("/api/x")
        self.assertEqual((r.status, r.body), (200, b"tf state:$LATEST:/api/x tf-layer"))
        r = lb.get("/w?v=2", headers=["X-Env: beta"])
        self.assertIn(r.body, (b"tf state:$LATEST:/w tf-layer", b"tf state:2:/w tf-layer"))
        r = lb.get("/w?v=2")
        self.assertEqual((r.status, r.body), (404, b"tf none"))
        r = lb.get("/p", host="old.example.com")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), f"http://new.example.com:{lb.port}/p")

    def test_a_layer_published_on_aws_is_named_and_left_out(self):
        insights = "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:38"
        lb = StackLb(os.path.join(STACK, "tf"), "state.json", args=["--port-map", "80=0"])
        with open(lb.config_path) as f:
            doc = json.load(f)
        fn = next(r for r in doc["values"]["root_module"]["resources"]
                  if r["address"] == "aws_lambda_function.api")
        fn["values"]["layers"].insert(0, insights)
        with open(lb.config_path, "w") as f:
            json.dump(doc, f)
        serve(self, lb)
        r = lb.get("/api/x")
        self.assertEqual((r.status, r.body), (200, b"tf state:$LATEST:/api/x tf-layer"))
        self.assertRegex(lb.stderr(), r"state\.json:1:\d+: layer '%s' is not in this document, "
                         r"and lb cannot fetch it from AWS: function 'aws_lambda_function\.api' "
                         r"runs without it" % re.escape(insights))

    def test_a_plan_links_resources_through_configuration_references(self):
        lb = self.serve("plan.json")
        r = lb.get("/anything")
        self.assertEqual((r.status, r.body), (200, b"tf plan:1:/anything"))

    def test_a_plan_of_a_deployed_stack_reads_its_data_sources_only_from_prior_state(self):
        # Why: a plan made after an apply holds every managed resource in prior_state too,
        # as it was; lb read them beside planned_values and refused the plan with
        # "lb serves one load balancer; 'aws_lb.main' is a second one (first: 'aws_lb.main')".
        lb = StackLb(os.path.join(STACK, "tf"), "plan.json", args=["--port-map", "80=0"])
        with open(lb.config_path) as f:
            doc = json.load(f)
        arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/plan-alb/1"
        doc["prior_state"]["values"]["root_module"]["resources"] += [
            {"address": "aws_lb.main", "mode": "managed", "type": "aws_lb", "name": "main",
             "values": {"name": "plan-alb", "load_balancer_type": "application", "arn": arn}},
            {"address": "aws_lb_listener.http", "mode": "managed", "type": "aws_lb_listener",
             "name": "http", "values": {"port": 80, "protocol": "HTTP", "load_balancer_arn": arn,
                                        "arn": arn.replace("loadbalancer", "listener") + "/2",
                                        "default_action": [{"type": "fixed-response", "forward": [],
                                                            "redirect": [], "fixed_response": [
                                                                {"content_type": "text/plain",
                                                                 "message_body": "old",
                                                                 "status_code": "503"}]}]}}]
        with open(lb.config_path, "w") as f:
            json.dump(doc, f, indent=1)
        serve(self, lb)
        r = lb.get("/anything")
        self.assertEqual((r.status, r.body), (200, b"tf plan:1:/anything"))

    def test_a_plan_with_a_public_layer_and_one_known_after_apply(self):
        # Why: a plan writes the ARN of a layer created by the same apply as null in
        # its place in the list; lb refused that null, so no plan with a layer loaded.
        insights = "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:38"
        lb = StackLb(os.path.join(STACK, "tf"), "plan.json", args=["--port-map", "80=0"])
        with open(lb.config_path) as f:
            doc = json.load(f)
        doc["planned_values"]["root_module"]["resources"].insert(0, {
            "address": "aws_lambda_layer_version.greet", "mode": "managed",
            "type": "aws_lambda_layer_version", "name": "greet",
            "values": {"layer_name": "greet", "filename": "greet-layer"}})
        fn = doc["planned_values"]["root_module"]["resources"][1]
        self.assertEqual(fn["address"], "aws_lambda_function.api")
        fn["values"]["layers"] = [insights, None]
        conf = doc["configuration"]["root_module"]["resources"][0]
        conf["expressions"]["layers"] = {"references": ["aws_lambda_layer_version.greet.arn",
                                                        "aws_lambda_layer_version.greet"]}
        with open(lb.config_path, "w") as f:
            json.dump(doc, f, indent=1)
        serve(self, lb)
        r = lb.get("/anything")
        self.assertEqual((r.status, r.body), (200, b"tf plan:1:/anything tf-layer"))
        self.assertIn("layer '%s' is not in this document" % insights, lb.stderr())

    def test_a_plan_with_a_module_and_for_each_links_each_instance(self):
        # Why: a plan's references are module-local ("aws_lb_target_group.svc" beside
        # "each.key"; "module.alb.http_listener_arn" for a module's output); lb linked
        # none of them, dropped every rule and target without a word, and served 404s.
        svcs = {"orders": 10, "users": 20}
        none = {"fixed_response": [], "forward": [], "redirect": []}
        res = []
        for k, prio in svcs.items():
            res += [
                {"address": 'aws_lambda_function.svc["%s"]' % k, "mode": "managed",
                 "type": "aws_lambda_function", "name": "svc", "index": k,
                 "values": {"function_name": "shop-" + k, "filename": "src", "handler": "index.handler",
                            "runtime": "python3.11", "environment": [{"variables": {"WHO": k}}]}},
                {"address": 'aws_lb_target_group.svc["%s"]' % k, "mode": "managed",
                 "type": "aws_lb_target_group", "name": "svc", "index": k,
                 "values": {"name": "shop-" + k, "target_type": "lambda"}},
                {"address": 'aws_lb_target_group_attachment.svc["%s"]' % k, "mode": "managed",
                 "type": "aws_lb_target_group_attachment", "name": "svc", "index": k, "values": {}},
                {"address": 'aws_lb_listener_rule.svc["%s"]' % k, "mode": "managed",
                 "type": "aws_lb_listener_rule", "name": "svc", "index": k,
                 "values": {"priority": prio, "action": [dict(none, type="forward")],
                            "condition": [{"path_pattern": [{"values": ["/%s/*" % k]}]}]}}]
        alb = [{"address": "module.alb.aws_lb.this", "mode": "managed", "type": "aws_lb", "name": "this",
                "values": {"name": "shop", "load_balancer_type": "application"}},
               {"address": "module.alb.aws_lb_listener.http", "mode": "managed",
                "type": "aws_lb_listener", "name": "http",
                "values": {"port": 80, "protocol": "HTTP", "default_action": [dict(none, type="fixed-response", fixed_response=[
                    {"content_type": "text/plain", "message_body": "nope", "status_code": "404"}])]}}]
        each = lambda r: {"references": [r, "each.key"]}
        conf = {"root_module": {
            "resources": [
                {"address": "aws_lb_target_group_attachment.svc", "type": "aws_lb_target_group_attachment",
                 "expressions": {"target_group_arn": each("aws_lb_target_group.svc"),
                                 "target_id": each("aws_lambda_function.svc")}},
                {"address": "aws_lb_listener_rule.svc", "type": "aws_lb_listener_rule",
                 "expressions": {"listener_arn": {"references": ["module.alb.http_listener_arn", "module.alb"]},
                                 "action": [{"target_group_arn": each("aws_lb_target_group.svc")}]}}],
            "module_calls": {"alb": {"source": "./modules/alb", "module": {
                "outputs": {"http_listener_arn": {"expression": {
                    "references": ["aws_lb_listener.http.arn", "aws_lb_listener.http"]}}},
                "resources": [
                    {"address": "aws_lb_listener.http", "type": "aws_lb_listener",
                     "expressions": {"load_balancer_arn": {"references": ["aws_lb.this.arn", "aws_lb.this"]}}}]}}}}}
        lb = StackLb(os.path.join(STACK, "tf"), "shop.json", args=["--port-map", "80=0"])
        with open(lb.config_path, "w") as f:
            json.dump({"format_version": "1.2", "planned_values": {"root_module": {
                "resources": res, "child_modules": [{"address": "module.alb", "resources": alb}]}},
                "configuration": conf}, f, indent=1)
        serve(self, lb)
        assert_routes(self, lb,
                      ("/orders/7", 200, b"tf orders:$LATEST:/orders/7"),
                      ("/users/7", 200, b"tf users:$LATEST:/users/7"),
                      ("/other", 404, b"nope"))

    def test_a_plan_links_through_module_input_variables(self):
        # Why: a module's resources reach the caller's through input variables
        # ("var.listener_arn"), set by the module call's expressions in the caller's terms
        # (each.key there is the module instance's key); lb followed none of them.
        # A for_each key may hold '].' and quotes: Terraform writes it as a JSON string.
        none = {"fixed_response": [], "forward": [], "redirect": []}
        fixed = lambda body: [dict(none, type="fixed-response", fixed_response=[
            {"content_type": "text/plain", "message_body": body, "status_code": "200"}])]
        rule = lambda addr, prio, path, act: {
            "address": addr, "mode": "managed", "type": "aws_lb_listener_rule", "name": "this",
            "values": {"priority": prio, "action": act,
                       "condition": [{"path_pattern": [{"values": [path]}]}]}}
        res = [{"address": "aws_lb.this", "mode": "managed", "type": "aws_lb", "name": "this",
                "values": {"name": "shop", "load_balancer_type": "application"}},
               {"address": "aws_lb_listener.http", "mode": "managed", "type": "aws_lb_listener",
                "name": "http", "values": {"port": 80, "protocol": "HTTP", "default_action": [
                    dict(none, type="fixed-response", fixed_response=[
                        {"content_type": "text/plain", "message_body": "nope", "status_code": "404"}])]}}]
        svcs = {"orders": ("orders", 10), 'us"].ers': ("users", 20)}
        for k, (name, _) in svcs.items():
            res += [
                {"address": "aws_lambda_function.svc[%s]" % json.dumps(k), "mode": "managed",
                 "type": "aws_lambda_function", "name": "svc", "index": k,
                 "values": {"function_name": "shop-" + name, "filename": "src", "handler": "index.handler",
                            "runtime": "python3.11", "environment": [{"variables": {"WHO": name}}]}},
                {"address": "aws_lb_target_group.svc[%s]" % json.dumps(k), "mode": "managed",
                 "type": "aws_lb_target_group", "name": "svc", "index": k,
                 "values": {"name": "shop-" + name, "target_type": "lambda"}}]
        kids = [{"address": "module.svc[%s]" % json.dumps(k), "resources": [
            {"address": "module.svc[%s].aws_lb_target_group_attachment.this" % json.dumps(k),
             "mode": "managed", "type": "aws_lb_target_group_attachment", "name": "this", "values": {}},
            dict(rule("module.svc[%s].aws_lb_listener_rule.this" % json.dumps(k), prio, "/%s/*" % name,
                      [dict(none, type="forward")]))]} for k, (name, prio) in svcs.items()]
        kids.append({"address": "module.web", "resources": [
            rule("module.web.aws_lb_listener_rule.this", 30, "/web/*", fixed("web"))],
            "child_modules": [{"address": "module.web.module.deep", "resources": [
                rule("module.web.module.deep.aws_lb_listener_rule.this", 40, "/deep/*",
                     fixed("deep"))]}]})
        var = lambda name: {"references": ["var." + name]}
        rule_conf = {"address": "aws_lb_listener_rule.this", "type": "aws_lb_listener_rule",
                     "expressions": {"listener_arn": var("listener_arn")}}
        conf = {"root_module": {
            "resources": [
                {"address": "aws_lb_listener.http", "type": "aws_lb_listener",
                 "expressions": {"load_balancer_arn": {"references": ["aws_lb.this.arn", "aws_lb.this"]}}}],
            "module_calls": {
                "svc": {"source": "./modules/svc", "for_each_expression": {"references": ["local.svcs"]},
                        "expressions": {
                            "listener_arn": {"references": ["aws_lb_listener.http.arn", "aws_lb_listener.http"]},
                            "target_group_arn": {"references": ["aws_lb_target_group.svc", "each.key"]},
                            "function_arn": {"references": ["aws_lambda_function.svc", "each.key"]}},
                        "module": {"resources": [
                            {"address": "aws_lb_target_group_attachment.this",
                             "type": "aws_lb_target_group_attachment",
                             "expressions": {"target_group_arn": var("target_group_arn"),
                                             "target_id": var("function_arn")}},
                            dict(rule_conf, expressions={"listener_arn": var("listener_arn"), "action": [
                                {"target_group_arn": var("target_group_arn")}]})]}},
                "web": {"source": "./modules/web",
                        "expressions": {"listener_arn": {"references": ["aws_lb_listener.http.arn",
                                                                        "aws_lb_listener.http"]}},
                        "module": {"resources": [rule_conf], "module_calls": {"deep": {
                            "source": "./deep", "expressions": {"listener_arn": var("listener_arn")},
                            "module": {"resources": [rule_conf]}}}}}}}}
        lb = StackLb(os.path.join(STACK, "tf"), "shop.json", args=["--port-map", "80=0"])
        with open(lb.config_path, "w") as f:
            json.dump({"format_version": "1.2", "planned_values": {"root_module": {
                "resources": res, "child_modules": kids}}, "configuration": conf}, f, indent=1)
        serve(self, lb)
        assert_routes(self, lb,
                      ("/orders/7", 200, b"tf orders:$LATEST:/orders/7"),
                      ("/users/7", 200, b"tf users:$LATEST:/users/7"),
                      ("/web/7", 200, b"web"),
                      ("/deep/7", 200, b"deep"),
                      ("/other", 404, b"nope"))

    def test_a_link_to_nothing_in_a_state_is_a_warning_at_its_place(self):
        # Why: a rule, listener or attachment whose ARN names nothing in the document was
        # dropped without a word: `lb check` passed and requests fell to the default action.
        other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/1/2"
        cases = [
            ("aws_lb_listener_rule.api", "listener_arn", other, "listener", 0),
            ("aws_lb_target_group_attachment.live", "target_group_arn", "arn:tg", "target group", 0),
            # the only listener left out: no listener is an error after the warning
            ("aws_lb_listener.http", "load_balancer_arn", "arn:lb", "load balancer", 1),
        ]
        for addr, key, value, what, want_code in cases:
            with self.subTest(addr=addr), tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(STACK, "tf", "state.json")) as f:
                    doc = json.load(f)
                res = next(r for r in doc["values"]["root_module"]["resources"]
                           if r["address"] == addr)
                res["values"][key] = value
                shutil.copytree(os.path.join(STACK, "tf"), os.path.join(tmp, "tf"))
                path = os.path.join(tmp, "tf", "state.json")
                with open(path, "w") as f:
                    json.dump(doc, f, indent=1)
                line = next(i for i, s in enumerate(open(path), 1) if '"%s": "%s"' % (key, value) in s)
                code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
                self.assertEqual(code, want_code, err)
                self.assertRegex(err, r"(?m)^lb: warning: %s:%d:\d+: %s: %s '%s' names no %s of "
                                 r"this document: lb leaves %s out$" % (
                                     re.escape(path), line, re.escape(addr), key, re.escape(value),
                                     what, re.escape(addr)))
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", os.path.join(STACK, "tf", "state.json"),
                                    tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertNotIn("names no", err)

    def test_a_link_known_only_after_apply_that_lb_cannot_follow_is_an_error(self):
        # Why: in a plan the configuration's references are lb's only way to what an
        # unknown ARN names; one lb cannot follow dropped the rule without a word.
        rule = {"address": "aws_lb_listener_rule.api", "mode": "managed",
                "type": "aws_lb_listener_rule", "name": "api",
                "values": {"priority": 10, "action": [{"type": "fixed-response", "forward": [], "redirect": [],
                           "fixed_response": [{"content_type": "text/plain", "message_body": "api",
                                               "status_code": "200"}]}],
                           "condition": [{"path_pattern": [{"values": ["/api/*"]}]}]}}
        cases = [
            ("aws_lb_listener_rule.api", "listener_arn",
             ["aws_lb_listener.https.arn", "aws_lb_listener.https"],
             "aws_lb_listener_rule.api: listener_arn is known only after apply, and lb cannot "
             "link its references (aws_lb_listener.https.arn, aws_lb_listener.https) to a "
             "listener of this plan"),
            ("aws_lb_target_group_attachment.live", "target_group_arn", ["var.tg_arn"],
             "aws_lb_target_group_attachment.live: target_group_arn is known only after apply, "
             "and lb cannot link its references (var.tg_arn) to a target group of this plan"),
            ("aws_lb_listener.http", "load_balancer_arn", None,
             "aws_lb_listener.http: load_balancer_arn is known only after apply, and the "
             "configuration has no reference linking it to a load balancer of this plan"),
        ]
        for addr, key, refs, want in cases:
            with self.subTest(addr=addr), tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(STACK, "tf", "plan.json")) as f:
                    doc = json.load(f)
                doc["planned_values"]["root_module"]["resources"].append(rule)
                conf = doc["configuration"]["root_module"]["resources"]
                conf.append({"address": "aws_lb_listener_rule.api", "mode": "managed",
                             "type": "aws_lb_listener_rule", "name": "api", "expressions": {
                                 "listener_arn": {"references": ["aws_lb_listener.http.arn",
                                                                 "aws_lb_listener.http"]}}})
                exprs = next(r for r in conf if r["address"] == addr)["expressions"]
                if refs is None:
                    del exprs[key]
                else:
                    exprs[key] = {"references": refs}
                shutil.copytree(os.path.join(STACK, "tf"), os.path.join(tmp, "tf"))
                path = os.path.join(tmp, "tf", "plan.json")
                with open(path, "w") as f:
                    json.dump(doc, f, indent=1)
                code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, r"(?m)^%s:\d+:\d+: %s$" % (re.escape(path), re.escape(want)))
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", os.path.join(STACK, "tf", "plan.json"),
                                    tmpdir=tmp)
        self.assertEqual(code, 0, err)

    def test_a_data_source_load_balancer_is_not_the_one_lb_runs(self):
        # Why: a data "aws_lb" reads an ALB deployed elsewhere (a shared one whose DNS
        # name a service looks up); lb refused the state: "lb serves one load balancer;
        # 'data.aws_lb.shared' is a second one (first: 'aws_lb.main')".
        shared = {"address": "data.aws_lb.shared", "mode": "data", "type": "aws_lb",
                  "name": "shared", "values": {
                      "arn": ELB + "loadbalancer/app/shared/0123456789abcdef",
                      "name": "shared", "load_balancer_type": "application"}}
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(os.path.join(STACK, "tf"), os.path.join(tmp, "tf"))
            path = os.path.join(tmp, "tf", "state.json")
            with open(path) as f:
                doc = json.load(f)
            res = doc["values"]["root_module"]["resources"]
            res.insert(0, shared)
            with open(path, "w") as f:
                json.dump(doc, f, indent=1)
            code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
            self.assertEqual(code, 0, err)
            self.assertRegex(out, r"(?m)^load balancer tf-alb \(app/tf-alb/")
            self.assertNotIn("shared", out + err)
            # with no managed one, the data source is named, not served
            doc["values"]["root_module"]["resources"] = [
                r for r in res if r["type"] != "aws_lb" or r["mode"] == "data"]
            with open(path, "w") as f:
                json.dump(doc, f, indent=1)
            code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
        self.assertEqual(code, 1, err)
        self.assertRegex(err, r"(?m)^%s:\d+:\d+: no application load balancer \(aws_lb\) in it: "
                         r"'data\.aws_lb\.shared' is a data source, an ALB deployed elsewhere, "
                         r"which lb does not run$" % re.escape(path))

    def test_references_link_within_their_own_module(self):
        # Why: two modules each with aws_lb_target_group.this; a reference lb could not
        # resolve in its own module (this[var.pick], an index only known at apply) fell
        # back to matching the name alone and forwarded module.b's rule to module.a's
        # target group, so /b/ requests ran module.a's function.
        none = {"fixed_response": [], "forward": [], "redirect": []}

        def mod(m, tgs):
            res = [{"address": "module.%s.aws_lambda_function.this" % m, "mode": "managed",
                    "type": "aws_lambda_function", "name": "this",
                    "values": {"function_name": "fn-" + m, "filename": "src", "handler": "index.handler",
                               "runtime": "python3.11", "environment": [{"variables": {"WHO": m}}]}},
                   {"address": "module.%s.aws_lb_listener_rule.this" % m, "mode": "managed",
                    "type": "aws_lb_listener_rule", "name": "this",
                    "values": {"priority": 10 if m == "a" else 20,
                               "action": [dict(none, type="forward")],
                               "condition": [{"path_pattern": [{"values": ["/%s/*" % m]}]}]}}]
            for idx in tgs:
                res += [{"address": "module.%s.aws_lb_target_group.this%s" % (m, idx), "mode": "managed",
                         "type": "aws_lb_target_group", "name": "this",
                         "values": {"name": "tg-%s%s" % (m, idx.strip("[]")), "target_type": "lambda"}},
                        {"address": "module.%s.aws_lb_target_group_attachment.this%s" % (m, idx),
                         "mode": "managed", "type": "aws_lb_target_group_attachment", "name": "this",
                         "values": {}}]
            return {"address": "module." + m, "resources": res}

        def conf(pick):
            tg = ["aws_lb_target_group.this", "var.pick"] if pick else \
                 ["aws_lb_target_group.this.arn", "aws_lb_target_group.this"]
            idx = ["aws_lb_target_group.this", "count.index"] if pick else tg
            return {"source": "./modules/svc", "expressions": {"listener_arn": {"references": [
                "aws_lb_listener.http.arn", "aws_lb_listener.http"]}}, "module": {"resources": [
                {"address": "aws_lb_target_group_attachment.this", "type": "aws_lb_target_group_attachment",
                 "expressions": {"target_group_arn": {"references": idx},
                                 "target_id": {"references": ["aws_lambda_function.this.arn",
                                                              "aws_lambda_function.this"]}}},
                {"address": "aws_lb_listener_rule.this", "type": "aws_lb_listener_rule",
                 "expressions": {"listener_arn": {"references": ["var.listener_arn"]},
                                 "action": [{"target_group_arn": {"references": tg}}]}}]}}

        top = [{"address": "aws_lb.this", "mode": "managed", "type": "aws_lb", "name": "this",
                "values": {"name": "shop", "load_balancer_type": "application"}},
               {"address": "aws_lb_listener.http", "mode": "managed", "type": "aws_lb_listener",
                "name": "http", "values": {"port": 80, "protocol": "HTTP", "default_action": [
                    dict(none, type="fixed-response", fixed_response=[
                        {"content_type": "text/plain", "message_body": "nope", "status_code": "404"}])]}}]
        root_conf = [{"address": "aws_lb_listener.http", "type": "aws_lb_listener",
                      "expressions": {"load_balancer_arn": {"references": ["aws_lb.this.arn", "aws_lb.this"]}}}]
        for pick in (False, True):
            with self.subTest(pick=pick), tempfile.TemporaryDirectory() as tmp:
                shutil.copytree(os.path.join(STACK, "tf"), os.path.join(tmp, "tf"))
                path = os.path.join(tmp, "tf", "mods.json")
                with open(path, "w") as f:
                    json.dump({"format_version": "1.2", "planned_values": {"root_module": {
                        "resources": top, "child_modules": [
                            mod("a", [""]), mod("b", ["[0]", "[1]"] if pick else [""])]}},
                        "configuration": {"root_module": {"resources": root_conf, "module_calls": {
                            "a": conf(False), "b": conf(pick)}}}}, f, indent=1)
                code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
                if not pick:
                    self.assertEqual(code, 0, err)
                    self.assertIn("  10 path_pattern: /a/* -> forward to tg-a\n", out)
                    self.assertIn("  20 path_pattern: /b/* -> forward to tg-b\n", out)
                    continue
                self.assertEqual(code, 1, out + err)
                self.assertRegex(err, r"(?m)^%s:\d+:\d+: 'target_group_arn' names no target group "
                                 r"of this document$" % re.escape(path))

    def test_check_names_what_is_skipped(self):
        with tempfile.TemporaryDirectory() as tmp:
            code, out, err = lb_run("check", "-c", os.path.join(STACK, "tf", "state.json"),
                                    tmpdir=tmp)
        self.assertEqual(code, 0, err)
        self.assertIn("target group tf-live: lambda, single-value headers, target tf-api:live", out)
        self.assertIn("not emulated, skipped: aws_iam_role.lambda", err)
        # as for a template: a port below 1024 moves up, in one line
        self.assertIn("listener port 80 serves on 8080 (--port-map 80=PORT to choose)", err)

    def test_a_state_without_a_load_balancer_names_the_file_and_a_position(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "empty.json")
            with open(path, "w") as f:
                f.write('{"format_version": "1.2", "values": {}}\n')
            code, _, err = lb_run("check", "-c", path, tmpdir=tmp)
        self.assertEqual(code, 1)
        self.assertIn(path + ":1:1: no application load balancer (aws_lb) in it", err)

    def test_a_missing_or_mistyped_attribute_is_an_error_at_its_place(self):
        # Why: a plan leaves unknown values out of planned_values, so keys go missing;
        # these crashed lb (a null dereference) instead of naming the resource.
        cases = [
            ("state.json", "aws_lb_listener_rule.redirect", "condition", None,
             "aws_lb_listener_rule.redirect needs condition"),
            ("state.json", "aws_lb_listener_rule.redirect", "action", None,
             "aws_lb_listener_rule.redirect needs action"),
            ("state.json", "aws_lb_listener.http", "default_action", None,
             "aws_lb_listener.http needs default_action"),
            ("state.json", "aws_lb.main", None, None, "aws_lb.main needs values"),
            ("state.json", "aws_lambda_function.api", "function_name", None,
             "aws_lambda_function.api needs function_name"),
            ("state.json", "aws_lb_listener_rule.api", "condition", "x",
             "aws_lb_listener_rule.api: condition must be a list"),
            ("state.json", "aws_lambda_function.api", "function_name", {"a": "b"},
             "aws_lambda_function.api: function_name must be a string"),
            ("plan.json", "aws_lb_listener.http", "default_action", None,
             "aws_lb_listener.http needs default_action (a value known only after apply"),
            ("plan.json", "aws_lb_listener.http", None, [], "aws_lb_listener.http needs values"),
        ]
        for name, addr, key, value, want in cases:
            with self.subTest(addr=addr, key=key, value=value), \
                    tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(STACK, "tf", name)) as f:
                    doc = json.load(f)
                top = doc.get("values") or doc["planned_values"]
                res = next(r for r in top["root_module"]["resources"] if r["address"] == addr)
                obj, k = (res["values"], key) if key else (res, "values")
                if value is None:
                    del obj[k]
                else:
                    obj[k] = value
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    json.dump(doc, f, indent=1)
                code, out, err = lb_run("check", "-c", path, tmpdir=tmp)
                self.assertEqual(code, 1, err)
                self.assertRegex(err, r"(?m)^%s:\d+:\d+: %s" % (re.escape(path), re.escape(want)))
                self.assertNotIn("runtime error", err)
                self.assertNotIn("Sanitizer", err)


if __name__ == "__main__":
    unittest.main()
