"""Link the flow's existing tasks to the step states issuance.0003 rebuilt, and point them at
the nodes of the new flow (one human node for every step; a dispatch gateway in place of the
old switch).

Each human task of the old flow did one step of one position of the path, or the drafter's
修改; its node says which. The states of that position, in the order they were opened,
pair with the node's tasks in the order they were created: the old flow opened exactly one
task each time a step came up.
"""

from django.db import migrations

POSITION_OF_NODE = {
    "first_review": 1, "second_review": 2, "final_review": 4, "sign": 5, "recheck": 6, "register": 7,
    "print_copy": 8, "distribute": 9, "archive": 10, "revise": 0,
}
NEW_NODE = {"start": "start", "route": "dispatch", "end": "end"}


def forward(apps, schema_editor):
    DocumentProcess = apps.get_model("workflows", "DocumentProcess")
    StepState = apps.get_model("issuance", "StepState")
    cursor = schema_editor.connection.cursor()
    for process in DocumentProcess.objects.all():
        states = {}
        for state in StepState.objects.filter(document_id=process.document_id).order_by("opening", "pk"):
            states.setdefault(state.position, []).append(state.pk)
        # Read and write the node references as text: the old nodes no longer exist to import.
        cursor.execute("SELECT id, flow_task FROM viewflow_task WHERE process_id = %s ORDER BY created, id",
                       [process.pk])
        for task_id, reference in cursor.fetchall():
            prefix, _, node = reference.rpartition(".")
            state = None
            if node in POSITION_OF_NODE:
                queue = states.get(POSITION_OF_NODE[node], [])
                state = queue.pop(0) if queue else None
                node = "step"
            else:
                node = NEW_NODE.get(node, node)
            cursor.execute("UPDATE viewflow_task SET flow_task = %s WHERE id = %s", [f"{prefix}.{node}", task_id])
            cursor.execute("INSERT INTO workflows_steptask (task_ptr_id, state_id) VALUES (%s, %s)", [task_id, state])


class Migration(migrations.Migration):

    dependencies = [
        ("workflows", "0002_step_task"),
        ("issuance", "0003_review_chains_data"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop, elidable=False),
    ]
