import { makeStyles } from '@material-ui/core/styles';

const useStyles = makeStyles(theme => ({
  root: {
    margin: 0,
    padding: theme.spacing(1, 0),
    fontFamily: 'monospace',
    fontSize: 12,
    lineHeight: 1.5,
    overflowX: 'auto',
    backgroundColor: theme.palette.background.default,
    borderRadius: 4,
  },
  line: { padding: theme.spacing(0, 1), whiteSpace: 'pre' },
  added: {
    backgroundColor: theme.palette.type === 'dark' ? '#1b4721' : '#e6ffed',
  },
  removed: {
    backgroundColor: theme.palette.type === 'dark' ? '#5c1a1a' : '#ffeef0',
  },
  hunk: { color: theme.palette.info.main },
  header: { color: theme.palette.text.secondary },
}));

/** Props of {@link UnifiedDiff}. */
export interface UnifiedDiffProps {
  /** A unified diff (`---`/`+++` headers, `@@` hunks, `+`/`-`/` ` lines). */
  diff: string;
  'data-testid'?: string;
}

/** A unified diff with added lines green, removed lines red and hunk headers blue. */
export function UnifiedDiff(props: UnifiedDiffProps) {
  const classes = useStyles();
  const lines = props.diff.replace(/\n$/, '').split('\n');
  return (
    <pre
      className={classes.root}
      data-testid={props['data-testid'] ?? 'unified-diff'}
    >
      {lines.map((line, index) => {
        let className = classes.line;
        if (line.startsWith('+++') || line.startsWith('---')) {
          className += ` ${classes.header}`;
        } else if (line.startsWith('@@')) {
          className += ` ${classes.hunk}`;
        } else if (line.startsWith('+')) {
          className += ` ${classes.added}`;
        } else if (line.startsWith('-')) {
          className += ` ${classes.removed}`;
        } else if (line.startsWith('=') || line.startsWith('Index:')) {
          return null;
        }
        return (
          <div key={index} className={className}>
            {line || ' '}
          </div>
        );
      })}
    </pre>
  );
}
