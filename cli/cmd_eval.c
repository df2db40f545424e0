/* descent eval: evaluates a run's newest checkpoint (the option handling is shared with
 * descent train, in cmd_train.c). */
int cmd_eval_main(int argc, char **argv);
int cmd_eval(int argc, char **argv);

int cmd_eval(int argc, char **argv) { return cmd_eval_main(argc, argv); }
