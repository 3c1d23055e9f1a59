import json
import os


def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"fn": context.function_name, "version": context.function_version,
                                "greeting": os.environ.get("GREETING"), "path": event["path"]})}
