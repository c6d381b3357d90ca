import { ARCHES, Session, scenarioSteps } from '@vmlayers/demo/lib';

const session = new Session({ arch: ARCHES.sv39 });
for (const step of scenarioSteps(session)) {
  console.log(step?.title, step?.meminfo.page.free);
  if (step?.step === 'cow') break; // the vm stays in the state of the copy-on-write step
}
