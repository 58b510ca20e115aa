"""Running the workshop for a room: a shared cluster with a namespace per learner (``learners``,
``access``, ``capacity``, ``plans``, RBAC checked offline by ``authz`` over ``rbac_table``), the
class report from learners' scorecards (``report``), the images a workshop pulls and their caches
(``images``, ``mirrors``), and catch-up / reset of a learner's environment (``catchup``)."""
