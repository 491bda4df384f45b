import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import TextField from '@material-ui/core/TextField';
import { planStatusLabel } from './PlanStatusChip';

/** Props of {@link PlanPicker}. */
export interface PlanPickerProps {
  plans: ReleasePlan[];
  selected?: ReleasePlan;
  onSelect: (planId: string) => void;
}

/** A choice of one of the entity's release plans. */
export function PlanPicker(props: PlanPickerProps) {
  const { plans, selected, onSelect } = props;
  return (
    <TextField
      id="deployments-plan-picker"
      label="Release plan"
      select
      SelectProps={{ native: true }}
      InputLabelProps={{ shrink: true }}
      value={selected?.id ?? ''}
      onChange={e => onSelect(e.target.value)}
      margin="dense"
      variant="outlined"
      style={{ minWidth: 320 }}
      inputProps={{ 'data-testid': 'plan-picker' }}
    >
      {plans.map(plan => (
        <option key={plan.id} value={plan.id}>
          {plan.releaseName} → {plan.target}/{plan.namespace} (
          {planStatusLabel(plan.status)})
        </option>
      ))}
    </TextField>
  );
}
