"""The feed flow as template.yaml declares it: what AWS gets, beyond what the emulator checks."""

from harness.paths import Paths
from harness.template import load_template

RESOURCES = load_template(Paths.discover().template)["Resources"]


def properties(logical_id: str) -> dict:
    return RESOURCES[logical_id]["Properties"]


def test_the_bucket_is_versioned_and_notifies_the_queue_for_incoming_only():
    bucket = properties("FeedBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    [notification] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "incoming/"}]
    assert RESOURCES["FeedBucket"]["DependsOn"] == "FeedQueuePolicy"


def test_only_the_feed_bucket_may_send_to_the_queue():
    [statement] = [
        s for s in properties("FeedQueuePolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    bucket_name = properties("FeedBucket")["BucketName"]["Fn::Sub"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(bucket_name)


def test_three_receives_then_the_dead_letter_queue_and_visibility_covers_the_timeout():
    queue = properties("FeedQueue")
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue["VisibilityTimeout"] >= 6 * properties("FeedProcessorFunction")["Timeout"]


def test_the_processor_reports_partial_batch_failures():
    event = properties("FeedProcessorFunction")["Events"]["FeedQueueEvent"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_alarms_cover_dead_letters_backlog_age_errors_and_throttles():
    alarmed = {
        (p["Namespace"], p["MetricName"])
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for p in [r["Properties"]]
    }
    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
    } <= alarmed
    assert RESOURCES["FeedDashboard"]["Type"] == "AWS::CloudWatch::Dashboard"


def test_the_processor_may_write_only_reports_and_quarantine():
    assert properties("FeedProcessorFunction")["Role"] == {"Fn::GetAtt": ["FeedProcessorRole", "Arn"]}
    [policy] = properties("FeedProcessorRole")["Policies"]
    writes = next(s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "s3:PutObject")
    assert all(r["Fn::Sub"].endswith(("/reports/*", "/quarantine/*")) for r in writes["Resource"])


def test_fault_injection_is_not_part_of_the_production_template():
    """Tests arm it on a version of their own (testkit/feed_pipeline.py); never the deployed stack."""
    assert "FAULT_INJECTION" not in Paths.discover().template.read_text().upper()
